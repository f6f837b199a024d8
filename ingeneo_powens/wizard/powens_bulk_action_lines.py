from odoo import fields, models

BULK_OUTCOMES = [("done", "Done"), ("refused", "Refused"), ("failed", "Failed")]


class PowensBulkActionCompany(models.TransientModel):
    """One company of the selected banks, and the user its banks' connection requests go to."""

    _name = "powens.bulk.action.company"
    _description = "Company of a POWENS bulk action"
    _order = "company_name, id"

    wizard_id = fields.Many2one("powens.bulk.action", required=True, ondelete="cascade")
    company_id = fields.Many2one("res.company", string="Company of the banks", required=True, readonly=True)
    # Kept as text: the dialog lists it whatever company is active in the switcher.
    company_name = fields.Char(string="Company", readonly=True)
    user_id = fields.Many2one(
        "res.users",
        string="Send to",
        domain="[('share', '=', False), ('company_ids', 'in', company_id)]",
        help="The internal user of this company who holds the banks' online banking credentials.",
    )


class PowensBulkActionResult(models.TransientModel):
    """What a bulk action did to one bank, or why it did not."""

    _name = "powens.bulk.action.result"
    _description = "Result of a POWENS bulk action on a bank"
    _order = "sequence, id"

    wizard_id = fields.Many2one("powens.bulk.action", required=True, ondelete="cascade")
    sequence = fields.Integer()
    # Names as text: a bank the user may not read is listed by its number only.
    bank_name = fields.Char(string="Bank", readonly=True)
    company_name = fields.Char(string="Company", readonly=True)
    outcome = fields.Selection(BULK_OUTCOMES, required=True, readonly=True)
    message = fields.Char(string="Details", readonly=True)
