from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.http import request

from ..const import CONSENT_TEXT_VERSION


class PowensConsentWizard(models.TransientModel):
    """The consent dialog before the webview: the account holder agrees, explicitly, to share
    the account's data; the agreement is recorded before anything leaves for Powens."""

    _name = "powens.consent.wizard"
    _description = "Consent before connecting a bank through Powens"

    journal_id = fields.Many2one("account.journal", required=True, readonly=True)
    flow = fields.Selection([("connect", "Connect"), ("reconnect", "Reconnect")], required=True, default="connect")
    consent_text = fields.Text(compute="_compute_consent_text")
    accepted = fields.Boolean(string="I consent")

    @api.depends("journal_id")
    def _compute_consent_text(self):
        for wizard in self:
            wizard.consent_text = self.env._(
                "I am the holder of the bank account(s) I am about to connect, or I am authorised "
                "by the holder. I consent to %(company)s receiving, through Powens (a payment "
                "institution approved by the ACPR), the balances and the transactions of the "
                "accounts I select, in order to keep its accounting. My bank credentials are typed "
                "only into Powens' pages and are never seen nor stored by %(company)s. This consent "
                "lasts 180 days, can be renewed, and can be withdrawn at any time by disconnecting "
                "the bank, which deletes the data held at Powens.",
                company=wizard.journal_id.company_id.name,
            )

    def action_continue(self):
        """Record the consent, then go to Powens' webview."""
        self.ensure_one()
        journal = self.journal_id
        journal._powens_check_can_connect()
        if not self.accepted:
            raise UserError(self.env._("The account holder's consent is required to connect the bank."))
        consent = self.env["powens.consent"].sudo().create({
            "company_id": journal.company_id.id,
            "journal_id": journal.id,
            "user_id": self.env.uid,
            "consented_at": fields.Datetime.now(),
            "remote_address": request.httprequest.remote_addr if request else False,
            "text_version": CONSENT_TEXT_VERSION,
            "consent_text": self.consent_text,
        })
        return {
            "type": "ir.actions.act_url",
            "url": journal._powens_webview_url(self.flow, consent),
            "target": "self",
        }
