from odoo import api, fields, models
from odoo.exceptions import UserError


class PowensConsentWizard(models.TransientModel):
    """The consent dialog before the webview: the account holder agrees, explicitly, to share
    the account's data; the agreement is recorded before anything leaves for Powens."""

    _name = "powens.consent.wizard"
    _description = "Consent before connecting a bank through Powens"

    journal_id = fields.Many2one("account.journal", required=True, readonly=True)
    flow = fields.Selection([("connect", "Connect"), ("reconnect", "Reconnect")], required=True, default="connect")
    consent_text = fields.Text(compute="_compute_consent_text")
    accepted = fields.Boolean(string="I consent")

    @api.model_create_multi
    def create(self, vals_list):
        self._check_journals({vals.get("journal_id") for vals in vals_list})
        return super().create(vals_list)

    def write(self, vals):
        if "journal_id" in vals:
            self._check_journals({vals["journal_id"]})
        return super().write(vals)

    def _check_journals(self, journal_ids):
        """The dialog is for a bank the user may connect, checked as the user: constraints run
        as superuser, and a many2one's name is read as superuser, so a dialog saved with
        another company's bank would show its name (security review F5)."""
        journals = self.env["account.journal"].browse(journal_id for journal_id in journal_ids if journal_id)
        journals.check_access("read")
        for journal in journals:
            journal._powens_check_can_connect()

    @api.depends("journal_id")
    def _compute_consent_text(self):
        for wizard in self:
            wizard.consent_text = self.env["powens.consent"]._text_for(wizard.journal_id.company_id)

    def action_continue(self):
        """Record the consent, then go to Powens' webview."""
        self.ensure_one()
        journal = self.journal_id
        journal._powens_check_can_connect()
        if not self.accepted:
            raise UserError(self.env._("The account holder's consent is required to connect the bank."))
        consent = self.env["powens.consent"]._record(journal, self.consent_text)
        return {
            "type": "ir.actions.act_url",
            "url": journal._powens_webview_url(self.flow, consent),
            "target": "self",
        }
