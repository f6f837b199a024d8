from odoo import fields, models

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
    journal_id = fields.Many2one("account.journal", string="Bank", required=True, readonly=True,
                                 ondelete="restrict")
    user_id = fields.Many2one("res.users", string="Given by", required=True, readonly=True,
                              ondelete="restrict")
    consented_at = fields.Datetime(string="Given on", required=True, readonly=True)
    remote_address = fields.Char(string="From address", readonly=True)
    text_version = fields.Char(readonly=True, default=CONSENT_TEXT_VERSION)
    consent_text = fields.Text(string="Text agreed to", readonly=True)
    connection_id = fields.Many2one("powens.connection", readonly=True, ondelete="set null")
    revoked_at = fields.Datetime(string="Withdrawn on", readonly=True)
