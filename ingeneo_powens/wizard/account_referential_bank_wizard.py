from odoo import fields, models


class AccountReferentialBankWizard(models.TransientModel):
    """ "+ Add" of the referential's Bank list: a bank needs nothing but its name, and adding
    it comes before any connection attempt. Holders of the accounting-setup right may add
    one without being accounting administrators, hence the checked creation as superuser."""

    _name = "account.referential.bank.wizard"
    _description = "Add a bank to the accounting referential"

    company_id = fields.Many2one("res.company", required=True, readonly=True)
    name = fields.Char(string="Bank name", required=True)

    def action_save(self):
        self.ensure_one()
        self.company_id._powens_check_setup_right()
        self.env["account.journal"].sudo().with_company(self.company_id).create(
            {
                "name": self.name,
                "type": "bank",
                "company_id": self.company_id.id,
            }
        )
        return {"type": "ir.actions.act_window_close"}
