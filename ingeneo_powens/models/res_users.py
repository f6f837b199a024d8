from odoo import fields, models


class ResUsers(models.Model):
    _inherit = "res.users"

    powens_weekly_digest = fields.Boolean(
        string="POWENS weekly digest",
        help="Each week, an e-mail listing the banks of your companies that need someone (action "
        "required, consent ending, lasting error, expired connection request). Sent only when there are some.",
    )

    @property
    def SELF_READABLE_FIELDS(self):  # noqa: N802 (Odoo's name)
        return super().SELF_READABLE_FIELDS + ["powens_weekly_digest"]

    @property
    def SELF_WRITEABLE_FIELDS(self):  # noqa: N802 (Odoo's name)
        return super().SELF_WRITEABLE_FIELDS + ["powens_weekly_digest"]

    def action_powens_send_connection_request(self):
        """The row button of "Send the connection request to a user": the bank comes from the
        dialog's context; the bank's own checks decide whether the current user may send it."""
        self.ensure_one()
        journal = self.env["account.journal"].browse(self.env.context.get("powens_request_journal_id"))
        return journal._powens_send_request(self)
