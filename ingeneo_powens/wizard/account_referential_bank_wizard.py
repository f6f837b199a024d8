import re

from stdnum.iso7064 import mod_97_10

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from odoo.addons.base.models.res_bank import sanitize_account_number

# ISO 13616: country, check digits, then 11 to 30 letters or digits (Norway's 15 the shortest).
IBAN_SHAPE = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}")


class AccountReferentialBankWizard(models.TransientModel):
    """ "+ Add" of the referential's Bank list: a bank needs nothing but its name, and adding
    it comes before any connection attempt. Its IBAN and currency, when given, let the
    account the holder shares at Powens be linked by itself. Holders of the accounting-setup
    right may add one without being accounting administrators, hence the checked creation
    as superuser (``res.company._powens_add_referential_bank``)."""

    _name = "account.referential.bank.wizard"
    _description = "Add a bank to the accounting referential"

    company_id = fields.Many2one("res.company", required=True, readonly=True)
    name = fields.Char(string="Bank name", required=True)
    acc_number = fields.Char(
        string="IBAN",
        help="The account's IBAN: the account shared at Powens with this IBAN feeds the bank without asking.",
    )
    currency_id = fields.Many2one(
        "res.currency",
        required=True,
        compute="_compute_currency_id",
        store=True,
        readonly=False,
        precompute=True,
    )

    @api.depends("company_id")
    def _compute_currency_id(self):
        for wizard in self:
            wizard.currency_id = wizard.company_id.currency_id

    @api.model_create_multi
    def create(self, vals_list):
        self._check_company_allowed(vals_list)
        return super().create(vals_list)

    def write(self, vals):
        self._check_company_allowed([vals])
        return super().write(vals)

    def _check_company_allowed(self, vals_list):
        """The company comes from the browser: a company the user may not act in is refused
        before the saved wizard is read back (it would show that company's name)."""
        company_ids = {vals["company_id"] for vals in vals_list if vals.get("company_id")}
        self.env["res.company"].browse(company_ids)._powens_check_setup_right()

    @api.constrains("acc_number")
    def _check_acc_number(self):
        """As Odoo's ``base_iban`` (not installed here) checks an IBAN: its shape, then its check
        digits (ISO 7064 mod 97-10), which catch a mistyped or swapped digit."""
        for wizard in self.filtered("acc_number"):
            number = sanitize_account_number(wizard.acc_number)
            if not (IBAN_SHAPE.fullmatch(number) and mod_97_10.is_valid(number[4:] + number[:4])):
                raise ValidationError(
                    self.env._(
                        "%(number)s is not a valid IBAN: check it on a bank statement.", number=wizard.acc_number
                    )
                )

    def action_save(self):
        self.ensure_one()
        self._check_acc_number()
        self.company_id._powens_add_referential_bank(self.name, self.acc_number, self.currency_id)
        return {"type": "ir.actions.act_window_close"}
