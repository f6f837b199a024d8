import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

import psycopg2
from psycopg2.errors import SerializationFailure

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..powens import PowensError, PowensNotFound
from ..powens.values import naive_utc
from .account_journal import BLOCKING_STATE_GROUPS

_logger = logging.getLogger(__name__)

# Context key of the scheduled job's retrievals: they commit at every commit point (the claim,
# each page), so that a long first retrieval survives its worker and other workers see the claim.
SCHEDULED_RUN = "powens_scheduled_run"
# A bank whose retrieval started longer ago than this is taken to have died with its worker
# and may be claimed again.
SYNC_CLAIM_TIMEOUT = timedelta(minutes=30)
# What every state refresh reads of the connection in one request: its state, its sources
# (the consent's end is only there) and all its accounts (balances, enabled or not).
CONNECTION_STATE_EXPAND = ("all_accounts", "sources")
# Powens serves at most this many transactions per page.
TRANSACTIONS_PAGE_SIZE = 1000
# A pull that began when Powens' clock read T has seen every change stamped before T, but for
# the changes Powens' parallel writers stamped just before T and committed just after: the
# cursor stays this margin behind T. It also absorbs a skew of our clock when Powens' answer
# carries no Date header. A movement read twice costs one lookup; one skipped is a line lost.
PARALLEL_WRITERS_MARGIN = timedelta(minutes=15)
# The `last_update` filter is written in Paris time, as production clients read Powens' naive
# stamps; nothing documents it. Were Powens' stamps UTC, the text would name an instant up to
# two hours (Paris summer time) later than meant: the margin covers that as well.
PARIS_UTC_OFFSET_MAX = timedelta(hours=2)
CURSOR_MARGIN = PARALLEL_WRITERS_MARGIN + PARIS_UTC_OFFSET_MAX


@dataclass
class RetrievalResult:
    """What one retrieval of a bank did, for whoever started it: the counts of its log, the
    message of its failure, or ``busy`` when another retrieval held the bank (nothing done)."""

    counts: Counter = field(default_factory=Counter)
    error: str = ""
    busy: bool = False

    @property
    def new_count(self):
        return self.counts.get("new", 0)


class PowensRetrieval(models.AbstractModel):
    """One retrieval of a bank's movements, read top to bottom in ``_retrieve``: claim the
    bank, refresh its connection's state, pull the changed movements page by page, move the
    cursor, apply the state, check that the journal follows the bank, log. The scheduled job,
    "Synchronise now" and Powens' notifications all retrieve through here and get a
    :class:`RetrievalResult` back."""

    _name = "powens.retrieval"
    _description = "Retrieval of a bank's movements from Powens"

    @api.model
    def _retrieve_due_banks(self):
        """The scheduled job: retrieve every bank due, each in its own company and
        transaction; several workers or servers share the banks through the claim. A bank's
        failure is its own: the run goes on with the others and ends well, so Odoo never
        deactivates the job because of one bank."""
        listed_at = fields.Datetime.now()
        candidates = self.env["account.journal"]._powens_cron_candidates()
        cron = self.env["ir.cron"]
        cron._commit_progress(remaining=len(candidates))
        scheduled = self.with_context(**{SCHEDULED_RUN: True})
        for candidate in candidates:
            # Each bank on its own prefetch set: a write on a bank is tracked (mail), and Odoo
            # computes the tracked related fields of every bank in the writer's prefetch set,
            # which made each bank's retrieval cost grow with the number of banks.
            journal = candidate.with_prefetch()
            try:
                scheduled.with_company(journal.company_id)._retrieve(journal, "cron", listed_at=listed_at)
            except Exception:
                _logger.exception("Scheduled Powens retrieval of journal %s failed", journal.id)
                self.env.cr.rollback()  # everything before this bank is committed
                journal.powens_sync_started_at = False
            if cron._commit_progress(processed=1) <= 0:
                break  # out of time: the next run goes on with the banks left

    @api.model
    def _retrieve(self, journal, trigger, delivered=None, listed_at=None):
        """Retrieve ``journal`` once, started by ``trigger``: its changed movements read at
        Powens, or the movements a notification ``delivered``. Returns a busy result when
        another retrieval holds the bank, or read it since the scheduled job ``listed_at``
        the banks due.

        As superuser: the callers are the journal's action (which checked the right), the
        scheduled job and an authenticated notification; a retrieval writes what no user
        writes directly (lines, logs, the connection's state)."""
        retrieval = self.sudo()
        journal = journal.with_env(retrieval.env)
        if not retrieval._claim(journal, read_before=listed_at):
            return RetrievalResult(busy=True)
        retrieval._commit_point()  # the claim is visible to the other workers from here
        started_at, clock = fields.Datetime.now(), time.monotonic()
        result = RetrievalResult()
        # Left open on success: the transaction's commit releases it, and the scheduled
        # retrieval's page commits may have ended it already.
        savepoint = retrieval.env.cr.savepoint()
        try:
            if delivered is None:
                result.counts = retrieval._pull(journal, forced=trigger == "manual")
            else:
                result.counts = retrieval._import_delivered(journal, delivered)
            journal._powens_apply_connection_state()
            if delivered is None:  # the bank's balance was read with its movements
                journal._powens_check_continuity()
            if journal.powens_connection_id.state_group in BLOCKING_STATE_GROUPS:
                result.error = journal.powens_message or journal.powens_connection_id.powens_state
        except Exception as failure:
            # What was committed stays: every page is applied whole, and the cursor did not
            # move, so the next retrieval reads again from the same point.
            retrieval._roll_back(savepoint)
            result.error = retrieval._failure_message(failure)
            # Powens' own words (its code) for the log; Odoo's errors may quote bank data.
            _logger.warning(
                "Powens retrieval of journal %s failed: %s",
                journal.id,
                failure if isinstance(failure, PowensError) else result.error,
                exc_info=not isinstance(failure, (PowensError, UserError)),
            )
            retrieval._post_failure(journal, result.error)
        journal.powens_sync_started_at = False
        retrieval.env["powens.sync.log"]._record(
            journal, trigger, started_at, time.monotonic() - clock, result.counts, result.error or False
        )
        journal._powens_cockpit_record_retrieval(result)
        retrieval._post_counts(journal, result.counts)
        return result

    def _commit_point(self):
        """Commit what the retrieval wrote so far, in the scheduled job only: the claim, then
        each page. The other retrievals stay in their caller's transaction. Tests inject
        their faults here."""
        if self.env.context.get(SCHEDULED_RUN):
            self.env["ir.cron"]._commit_progress()

    @api.model
    def _claim(self, journals, read_before=None):
        """Mark these banks as being retrieved and return them, skipping those another worker
        holds (row locks with SKIP LOCKED, then a timestamp that outlives the commits of a
        long pull) and, given ``read_before``, those read since then: the scheduled job's
        list of the banks due, made before another worker read some of them."""
        if not journals:
            return journals
        cr = journals.env.cr  # the journals' own: a test claims them from a second cursor
        journals.flush_model(["powens_sync_started_at", "powens_last_read_at"])
        try:
            with cr.savepoint(flush=False):
                cr.execute(
                    """
                    UPDATE account_journal SET powens_sync_started_at = now() AT TIME ZONE 'UTC'
                     WHERE id IN (
                        SELECT id FROM account_journal
                         WHERE id = ANY(%s)
                           AND (powens_sync_started_at IS NULL OR powens_sync_started_at < %s)
                           AND (%s::timestamp IS NULL OR powens_last_read_at IS NULL OR powens_last_read_at < %s)
                           FOR UPDATE SKIP LOCKED)
                    RETURNING id
                """,
                    [journals.ids, fields.Datetime.now() - SYNC_CLAIM_TIMEOUT, read_before, read_before],
                )
                claimed = journals.browse([row[0] for row in cr.fetchall()])
        except SerializationFailure:
            # Another worker claimed one of them and committed after this transaction began
            # (repeatable read): theirs now, as a lock held would have made them.
            claimed = journals.browse()
        journals.invalidate_recordset(["powens_sync_started_at"])
        return claimed

    @api.model
    def _pull(self, journal, forced, page_size=TRANSACTIONS_PAGE_SIZE):
        """Refresh the connection's state, then import every movement of the bank's account
        changed since the cursor (the first time, every one booked since the bank's history
        start), one page at a time, then read again the movements refused earlier.

        Only "Synchronise now" (``forced``) makes Powens sync the bank; the scheduled one
        reads what Powens already has. Movements are read whatever the connection's state: a
        bank Powens cannot sync still has the movements of its last sync at Powens, and
        reading them is a read of Powens' store that reaches no bank (finding 16).

        The cursor moves at the end only: an interrupted pull starts again from the same
        point, and the lines it had already imported are recognised. The cost of a pull grows
        with what changed since the last one, not with the history: the next pull starts from
        when this one began (by Powens' clock)."""
        journal.powens_last_read_at = fields.Datetime.now()
        client = journal._powens_client()
        self._refresh_connection(journal, client, forced)
        account = journal.powens_account_id
        started_at = fields.Datetime.now()
        if account.last_update_cursor:
            filters = {"last_update": account.last_update_cursor}
        else:
            # `min_date` applies to `application_date` unless told otherwise; the history
            # start is a booking date, the statement line's.
            filters = {"min_date": journal._powens_history_start(), "date_filter": "date"}
        totals = Counter()
        refused_earlier = {row: row.attempt_count for row in journal.powens_refused_ids}
        served_at = None
        pages = client.iter_transaction_pages(account.powens_id, include_deleted=True, limit=page_size, **filters)
        for page in pages:
            served_at = served_at or naive_utc(page.served_at) or started_at
            totals.update(self._import_page(journal, page))
            self._commit_point()
        pulled_up_to = (served_at or started_at) - CURSOR_MARGIN
        account.last_update_cursor = max(filter(None, (account.last_update_cursor, pulled_up_to)))
        totals.update(self._retry_refused(journal, client, refused_earlier))
        journal.powens_last_sync_at = fields.Datetime.now()
        return totals

    @api.model
    def _refresh_connection(self, journal, client, forced):
        """Read the bank's connection at Powens (state, consent, accounts) in one request;
        when ``forced`` (the user asked for fresh data) and Powens can sync the bank, ask it to
        sync first, once, with the user present (``psu_requested``). The bank's status is the
        caller's to derive, once it has read what it came for."""
        connection = journal.powens_connection_id
        if forced and connection.state_group not in BLOCKING_STATE_GROUPS:
            client.sync_connection(connection.powens_id, psu_requested=True)
        data = client.get_connection(connection.powens_id, expand=CONNECTION_STATE_EXPAND)
        connection._sync_from_powens(journal.company_id, data)
        self.env["powens.account"]._sync_from_connection_data(connection, data, client)

    @api.model
    def _import_page(self, journal, page):
        """One page in a savepoint of its own: a page Odoo refuses leaves the transaction
        clean, so its failure can be recorded and the other banks retrieved."""
        with self.env.cr.savepoint():
            return self.env["account.bank.statement.line"]._powens_import_page(journal, page)

    @api.model
    def _retry_refused(self, journal, client, refused_earlier):
        """Read again, one by one, the movements refused before this pull that its pages did
        not bring (``refused_earlier``: refusal -> attempts then): the ones that map now are
        imported; the ones Powens no longer has leave the list."""
        counts = Counter()
        for refused, attempts in refused_earlier.items():
            if not refused.exists() or refused.attempt_count != attempts:
                continue
            try:
                payload = client.get_transaction(int(refused.powens_transaction_id))
            except PowensNotFound:
                refused.unlink()
                continue
            counts.update(self._import_page(journal, [payload]))
        return counts

    @api.model
    def _import_delivered(self, journal, transactions):
        """The movements a notification of Powens delivered (no request to Powens)."""
        if not transactions:
            return Counter()
        counts = self.env["account.bank.statement.line"]._powens_import_page(journal, transactions)
        journal.powens_last_sync_at = fields.Datetime.now()
        return counts

    def _roll_back(self, savepoint):
        """Undo what the failed retrieval wrote since its last commit. The scheduled retrieval
        commits page by page, which ends the savepoint's transaction: then everything before
        the failure is committed already, and a rollback undoes exactly the rest."""
        try:
            savepoint.close(rollback=True)
        except psycopg2.Error:
            self.env.cr.rollback()

    def _failure_message(self, failure):
        """What the accountant reads about a failed retrieval: Powens' and Odoo's own words,
        never a stack trace nor data of the movements."""
        if isinstance(failure, PowensError):
            return self.env["account.journal"]._powens_error_message(failure)
        if isinstance(failure, UserError):  # ValidationError and the settings' errors too
            return failure.args[0] if failure.args else str(failure)
        return self.env._("Unexpected error (%(kind)s): the server log has the details.", kind=type(failure).__name__)

    def _post_failure(self, journal, error):
        """Post a failure on the bank once, not at every hourly retrieval it repeats."""
        last = self.env["powens.sync.log"].search([("journal_id", "=", journal.id)], limit=1)
        if last.error != error:
            journal.message_post(body=self.env._("The retrieval of the movements failed: %(error)s", error=error))

    def _post_counts(self, journal, counts):
        """Tell the accountant, on the bank, what a retrieval did that needs their eyes."""
        notes = {
            "deleted": self.env._(
                "%(count)s movement(s) imported earlier are no longer listed by the bank: they are "
                "flagged 'Deleted at the bank' in the bank's movements, for you to check.",
                count=counts.get("deleted"),
            ),
            "locked_period": self.env._(
                "%(count)s movement(s) are dated in a locked period: they were booked at the first "
                "open date. Their bank date stays on the line (Bank date column of the movements).",
                count=counts.get("locked_period"),
            ),
            "newly_rejected": self.env._(
                "%(count)s movement(s) could not be imported: they are listed with the reason in the "
                "bank's POWENS tab, and read again at each retrieval.",
                count=counts.get("newly_rejected"),
            ),
        }
        for count_name, body in notes.items():
            if counts.get(count_name):
                journal.message_post(body=body)
