from odoo import api, fields, models
from odoo.http import request

from ..const import CONSENT_TEXT_VERSION


class PowensConsent(models.Model):
    """The account holder's explicit consent to share a bank account's data through Powens
    (GDPR, PSD2): who agreed, when, from where, to which text. Kept after a disconnection,
    as the proof of what was agreed while the data flowed."""

    _name = "powens.consent"
    _description = "Powens consent of the account holder"
    _order = "consented_at desc, id desc"
    _rec_name = "journal_id"

    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True)
    journal_id = fields.Many2one("account.journal", string="Bank", required=True, readonly=True, ondelete="restrict")
    user_id = fields.Many2one("res.users", string="Given by", required=True, readonly=True, ondelete="restrict")
    consented_at = fields.Datetime(string="Given on", required=True, readonly=True)
    remote_address = fields.Char(string="From address", readonly=True)
    text_version = fields.Char(readonly=True, default=CONSENT_TEXT_VERSION)
    consent_text = fields.Text(string="Text agreed to", readonly=True)
    connection_id = fields.Many2one("powens.connection", readonly=True, ondelete="set null")
    revoked_at = fields.Datetime(string="Withdrawn on", readonly=True)

    @api.model
    def _text_for(self, company):
        """The text the account holder agrees to, whoever connects the bank (Option 1 or 2)."""
        return self.env._(
            "I am the holder of the bank account(s) I am about to connect, or I am authorised "
            "by the holder. I consent to %(company)s receiving, through Powens (a payment "
            "institution approved by the ACPR), the balances and the transactions of the "
            "accounts I select, in order to keep its accounting. My bank credentials are typed "
            "only into Powens' pages and are never seen nor stored by %(company)s. This consent "
            "lasts 180 days, can be renewed, and can be withdrawn at any time by disconnecting "
            "the bank, which deletes the data held at Powens.",
            company=company.name,
        )

    @api.model
    def _record(self, journal, consent_text):
        """Record the current user's consent to ``consent_text`` for ``journal``, before
        anything leaves for Powens (the caller checked the user may give it)."""
        journal = journal.sudo()
        return self.sudo().create(
            {
                "company_id": journal.company_id.id,
                "journal_id": journal.id,
                "user_id": self.env.uid,
                "consented_at": fields.Datetime.now(),
                "remote_address": request.httprequest.remote_addr if request else False,
                "text_version": CONSENT_TEXT_VERSION,
                "consent_text": consent_text,
            }
        )
