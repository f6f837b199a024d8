from odoo import fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    bank_journal_ids = fields.One2many(
        "account.journal",
        "company_id",
        string="Bank Journals",
        domain=[("type", "=", "bank")],
        help="The banks of the company's accounting referential: each one is a bank journal "
        "that can then be connected to Powens.",
    )

    def action_add_bank(self):
        """Open the short bank form: adding the bank to the referential comes before any
        connection attempt, and needs nothing but its name."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Add a bank"),
            "res_model": "account.journal",
            "view_mode": "form",
            "views": [(self.env.ref("ingeneo_powens.account_journal_view_form_add_bank").id, "form")],
            "target": "new",
            "context": {"default_type": "bank", "default_company_id": self.id},
        }
