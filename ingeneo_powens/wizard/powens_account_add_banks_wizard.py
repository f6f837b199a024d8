from odoo import api, fields, models
from odoo.exceptions import ValidationError


class PowensAccountAddBanksWizard(models.TransientModel):
    """The holder shared several accounts in one connection: add the others to the
    referential in one step, each as a bank of its own (name, IBAN and currency from Powens)
    fed by its account, so that nobody connects the same login once per account."""

    _name = "powens.account.add.banks.wizard"
    _description = "Add the other shared accounts as banks"
    _check_company_auto = True

    journal_id = fields.Many2one("account.journal", required=True, readonly=True)
    company_id = fields.Many2one(related="journal_id.company_id")
    available_account_ids = fields.Many2many(
        "powens.account", relation="powens_add_banks_wizard_available_rel", compute="_compute_available_account_ids"
    )
    account_ids = fields.Many2many(
        "powens.account",
        relation="powens_add_banks_wizard_account_rel",
        string="Accounts to add as banks",
        check_company=True,
        domain="[('id', 'in', available_account_ids)]",
        compute="_compute_account_ids",
        store=True,
        readonly=False,
        precompute=True,
    )

    @api.depends("journal_id")
    def _compute_available_account_ids(self):
        for wizard in self:
            wizard.available_account_ids = wizard.journal_id.sudo().powens_other_account_ids

    @api.depends("available_account_ids")
    def _compute_account_ids(self):
        for wizard in self:
            wizard.account_ids = wizard.available_account_ids

    @api.constrains("journal_id", "account_ids")
    def _check_accounts_available(self):
        """Only accounts of the bank's own connection, shared by the holder and feeding no bank:
        the view's domain is a convenience, any id may come over RPC."""
        for wizard in self:
            if wizard.account_ids - wizard.available_account_ids:
                raise ValidationError(self.env._("Choose among the other accounts shared in this bank's connection."))

    def action_add_banks(self):
        self.ensure_one()
        self.journal_id._powens_check_can_connect()
        self._check_accounts_available()
        company = self.journal_id.company_id
        for account in self.account_ids.sudo():
            bank = company._powens_add_referential_bank(account.name, account.iban, account.currency_id)
            bank._powens_link_account(account)
        return {"type": "ir.actions.act_window_close"}
