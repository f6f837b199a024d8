from datetime import timedelta

from odoo import api, fields, models

from .account_journal import BLOCKING_STATE_GROUPS

# Powens syncs every connection with its bank once a day by itself and tells us so by webhook
# (CONNECTION_SYNCED); its data changes only then, or when a user forces a sync. Reading it
# more often costs requests and brings nothing: Powens' fair-use policy asks integrators to
# "rely on webhooks first rather than repeatedly polling". A read costs 2 requests (the
# connection with its sources and accounts; the changed movements, one page when nothing is
# new), so, per bank and per day with nothing new:
# - a bank Powens notified within WEBHOOK_HEALTHY_WITHIN: a safety read a day, 2 requests;
SAFETY_READ_INTERVAL = timedelta(hours=24)
WEBHOOK_HEALTHY_WITHIN = timedelta(hours=24)
# - a bank Powens cannot sync until someone acts: what it has, 4 times a day, 8 requests;
BLOCKED_READ_INTERVAL = timedelta(hours=6)
# - any other bank: 12 reads, 24 requests (the cron runs hourly).
SCHEDULED_READ_INTERVAL = timedelta(hours=2)
# The hourly cron starts a little late or early from run to run: a read due within this
# margin is done now rather than an hour later.
SCHEDULE_SLACK = timedelta(minutes=10)


class AccountJournal(models.Model):
    """When the scheduled retrieval reads a bank at Powens (fair use and PSD2)."""

    _inherit = "account.journal"

    powens_notified_at = fields.Datetime(
        string="Last notification from Powens",
        copy=False,
        readonly=True,
        help="When Powens last notified new data of this bank (webhook), applied here.",
    )
    powens_last_read_at = fields.Datetime(
        string="Last read at Powens",
        copy=False,
        readonly=True,
        help="When a retrieval last read this bank at Powens, whatever came of it.",
    )

    @api.model
    def _powens_cron_candidates(self):
        """The banks fed by Powens whose scheduled read is due (see
        ``_powens_retrieval_due``), those waiting for an action too: the person may have
        acted at the bank or in Powens' webview, and only a retrieval sees it."""
        now = fields.Datetime.now()
        return (
            self.sudo()
            .search(
                [
                    ("powens_account_id", "!=", False),
                    ("powens_state", "not in", ("not_connected", "disconnected")),
                ]
            )
            .filtered(lambda journal: journal._powens_retrieval_due(now))
        )

    def _powens_retrieval_due(self, now):
        """Whether the scheduled retrieval reads this bank at ``now``."""
        self.ensure_one()
        if not self.powens_last_read_at:
            return True
        if self._powens_webhooks_healthy(now):
            interval = SAFETY_READ_INTERVAL
        elif self.powens_connection_id.state_group in BLOCKING_STATE_GROUPS:
            interval = BLOCKED_READ_INTERVAL
        else:
            interval = SCHEDULED_READ_INTERVAL
        return self.powens_last_read_at <= now - interval + SCHEDULE_SLACK

    def _powens_webhooks_healthy(self, now):
        """The company receives Powens' webhooks (its contract's secret checks them) and one reached this
        bank lately: its new movements come by themselves."""
        return bool(
            self.powens_notified_at
            and self.powens_notified_at >= now - WEBHOOK_HEALTHY_WITHIN
            and self.company_id._powens_contract().powens_webhook_secret_encrypted
        )

    def _powens_notified(self, applied):
        """A webhook of Powens brought these banks' new data: ``applied`` here, or left to
        the scheduled retrieval started at once, which must then read them whatever their
        schedule."""
        if applied:
            self.sudo().powens_notified_at = fields.Datetime.now()
        else:
            self.sudo().powens_last_read_at = False
