from odoo import api, fields, models
from odoo.exceptions import UserError


class PowensAccountLinkWizard(models.TransientModel):
    """Choose which bank account of the connection feeds the bank, when no IBAN decided."""

    _name = "powens.account.link.wizard"
    _description = "Choose the Powens account of a bank"

    journal_id = fields.Many2one("account.journal", required=True, readonly=True)
    available_account_ids = fields.Many2many("powens.account", compute="_compute_available_account_ids")
    account_id = fields.Many2one(
        "powens.account", string="Bank account", domain="[('id', 'in', available_account_ids)]")

    @api.depends("journal_id")
    def _compute_available_account_ids(self):
        for wizard in self:
            wizard.available_account_ids = wizard.journal_id.sudo().powens_account_choice_ids

    def action_link(self):
        self.ensure_one()
        self.journal_id._powens_check_can_connect()
        if self.account_id not in self.available_account_ids:
            raise UserError(self.env._("Choose one of the accounts of this bank's connection."))
        self.journal_id._powens_link_account(self.account_id.sudo())
        return {"type": "ir.actions.act_window_close"}
