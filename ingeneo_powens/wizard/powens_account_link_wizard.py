from odoo import api, fields, models
from odoo.exceptions import ValidationError


class PowensAccountLinkWizard(models.TransientModel):
    """Choose which bank account of the connection feeds the bank, when no IBAN decided."""

    _name = "powens.account.link.wizard"
    _description = "Choose the Powens account of a bank"
    _check_company_auto = True

    journal_id = fields.Many2one("account.journal", required=True, readonly=True)
    company_id = fields.Many2one(related="journal_id.company_id")
    available_account_ids = fields.Many2many("powens.account", compute="_compute_available_account_ids")
    account_id = fields.Many2one(
        "powens.account", string="Bank account", check_company=True, domain="[('id', 'in', available_account_ids)]"
    )

    @api.depends("journal_id")
    def _compute_available_account_ids(self):
        for wizard in self:
            wizard.available_account_ids = wizard.journal_id.sudo().powens_account_choice_ids

    @api.constrains("journal_id", "account_id")
    def _check_account_available(self):
        """Only an account of the bank's own connection, not feeding a bank yet, is accepted:
        the view's domain is a convenience, any id may come over RPC (and the wizard's record
        would then show that account's name as superuser)."""
        for wizard in self:
            if wizard.account_id not in wizard.available_account_ids:
                raise ValidationError(self.env._("Choose one of the accounts of this bank's connection."))

    def action_link(self):
        self.ensure_one()
        self.journal_id._powens_check_can_connect()
        self._check_account_available()
        self.journal_id._powens_link_account(self.account_id.sudo())
        if self.journal_id.powens_other_account_ids:
            return self.journal_id.action_powens_add_other_banks()
        return {"type": "ir.actions.act_window_close"}
