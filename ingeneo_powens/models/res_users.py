from odoo import models


class ResUsers(models.Model):
    _inherit = "res.users"

    def action_powens_send_connection_request(self):
        """The row button of "Send the connection request to a user": the bank comes from the
        dialog's context; the bank's own checks decide whether the current user may send it."""
        self.ensure_one()
        journal = self.env["account.journal"].browse(self.env.context.get("powens_request_journal_id"))
        return journal._powens_send_request(self)
