from odoo import fields, models


class PowensSyncLog(models.Model):
    """One retrieval of a bank's movements: when, how it was started, what it brought, how
    long it took, and why it failed when it did. Readable by holders of the right."""

    _name = "powens.sync.log"
    _description = "Powens retrieval log"
    _order = "started_at desc, id desc"
    _rec_name = "started_at"

    journal_id = fields.Many2one(
        "account.journal", string="Bank", required=True, readonly=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="journal_id.company_id", store=True)
    trigger = fields.Selection(
        [("cron", "Scheduled"), ("manual", "Synchronise now"), ("webhook", "Powens notification")],
        required=True,
        readonly=True,
    )
    started_at = fields.Datetime(required=True, readonly=True)
    duration = fields.Float(string="Duration (s)", readonly=True, digits=(16, 2))
    new_count = fields.Integer(string="New", readonly=True)
    pending_count = fields.Integer(string="Pending", readonly=True)
    booked_pending_count = fields.Integer(string="Pending now booked", readonly=True)
    deleted_count = fields.Integer(string="Deleted at the bank", readonly=True)
    rejected_count = fields.Integer(string="Refused", readonly=True)
    locked_period_count = fields.Integer(
        string="Booked after a locked period",
        readonly=True,
        help="New movements dated in a locked period, booked at the first open date.",
    )
    before_history_count = fields.Integer(
        string="Before the history start",
        readonly=True,
        help="Movements dated before the bank's history start, left out.",
    )
    error = fields.Char(readonly=True)

    def _record(self, journal, trigger, started_at, duration, counts, error=False):
        return self.sudo().create(
            {
                "journal_id": journal.id,
                "trigger": trigger,
                "started_at": started_at,
                "duration": duration,
                "new_count": counts.get("new", 0),
                "pending_count": counts.get("pending", 0),
                "booked_pending_count": counts.get("booked_pending", 0),
                "deleted_count": counts.get("deleted", 0),
                "rejected_count": counts.get("rejected", 0),
                "locked_period_count": counts.get("locked_period", 0),
                "before_history_count": counts.get("before_history", 0),
                "error": error,
            }
        )
