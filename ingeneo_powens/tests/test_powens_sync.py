import math
from datetime import timedelta
from decimal import Decimal
from unittest.mock import patch

from odoo import fields, sql_db
from odoo.exceptions import AccessError
from odoo.tests import TransactionCase, freeze_time, tagged

from ..models.account_bank_statement_line import AccountBankStatementLine
from ..models.account_journal_powens_advice import AccountJournal
from ..models.powens_retrieval import CURSOR_MARGIN, PowensRetrieval
from ..powens import PowensClient, PowensRateLimited
from ..powens.const import BACKOFF_BASE
from ..powens.values import naive_utc, parse_datetime
from .common import PowensSandboxMixin, transactions_of


class ConnectedBankCase(PowensSandboxMixin, TransactionCase):
    """A bank connected to one account of the sandbox, connected by the holder of the right."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Today's movements only: each case adds the movements it needs.
        cls.connection = cls.connect_at_powens(cls.bank, accounts=1)
        cls.connection.connected_by_id = cls.setup_user
        cls.account = cls.connection.account_ids
        cls.bank._powens_link_account(cls.account)
        cls.client = cls.bank._powens_client()

    @classmethod
    def booked_at_powens(cls):
        """The account's booked, not deleted movements as Powens lists them."""
        return {
            str(item["id"]): Decimal(str(item["value"]))
            for item in transactions_of(cls.client, cls.account.powens_id, include_deleted=False)
            if not item["coming"]
        }


@tagged("post_install", "-at_install")
class TestPowensSync(ConnectedBankCase):
    """Retrieval against the sandbox: every booked movement exactly once, to the cent."""

    def sync(self):
        """Synchronise now, as the holder of the right; returns the log of that retrieval."""
        self.bank.with_user(self.setup_user).action_powens_sync()
        return self.env["powens.sync.log"].search([("journal_id", "=", self.bank.id)], order="id desc", limit=1)

    def lines(self):
        return self.env["account.bank.statement.line"].search([("journal_id", "=", self.bank.id)])

    def pending(self):
        records = self.env["powens.pending.transaction"].search([("journal_id", "=", self.bank.id)])
        return set(records.mapped("powens_transaction_id"))

    def add_movements(self, count, coming=False):
        """New movements at the bank; pending ones dated tomorrow, so that the bank's own
        sync does not book them before the test does."""
        body = {"count": count, "coming": coming}
        if coming:
            body["date"] = (fields.Date.today() + timedelta(days=1)).isoformat()
        return self.sandbox.control("POST", f"/_sandbox/accounts/{self.account.powens_id}/transactions", body)["ids"]

    def analyze_page(self, _retrieval=None):
        """In production each page is committed and autovacuum keeps the statistics; here
        nothing commits, and tables analyzed while empty (after another test's committed data
        was removed) make PostgreSQL plan every accounting query as if they still were:
        minutes per query. ANALYZE counts the rows of its own transaction."""
        self.env.cr.execute("ANALYZE account_move, account_move_line, account_bank_statement_line")

    def test_a_thousand_movements_arrive_once_exact_to_the_cent(self):
        """A bank connected with a long history: 1,000 movements in one first retrieval, a full
        page of Powens' largest size. The 10,000-movement first sync accountants also bring is
        `make bench`'s (scripts/benchmark.py): Odoo books 40 to 70 statement lines a second
        here, three minutes the suite need not spend."""
        history = 1_000
        listed = sum(1 for _ in transactions_of(self.client, self.account.powens_id))
        self.add_movements(history - listed)
        booked = self.booked_at_powens()
        self.sandbox.control("DELETE", "/_sandbox/calls")

        with patch.object(PowensRetrieval, "_commit_point", self.analyze_page):
            self.env["powens.retrieval"]._retrieve(self.bank, "cron")

        lines = self.env["account.bank.statement.line"].search_fetch(
            [("journal_id", "=", self.bank.id)], ["powens_transaction_id", "amount"]
        )
        imported = {line.powens_transaction_id: Decimal(str(line.amount)) for line in lines}
        self.assertEqual(len(lines), len(imported), "no movement twice")
        self.assertEqual(imported, booked, "every booked movement, to the cent")
        self.assertEqual(sum(imported.values()), sum(booked.values()))
        calls = self.sandbox.control("GET", "/_sandbox/calls")
        pages = [call for call in calls if call["path"].endswith("/transactions")]
        self.assertEqual(len(pages), math.ceil(history / 1000), "one call per page of 1000")
        self.assertLessEqual(len(calls) - len(pages), 3, "and a few calls about the connection")
        log = self.env["powens.sync.log"].search([("journal_id", "=", self.bank.id)])
        self.assertEqual((log.new_count, log.error), (len(booked), False))
        self.assertTrue(self.account.last_update_cursor)

    def test_first_retrieval_imports_every_booked_movement_once_and_exactly(self):
        log = self.sync()
        expected = self.booked_at_powens()
        lines = self.lines()
        self.assertEqual(sorted(lines.mapped("powens_transaction_id")), sorted(expected))
        self.assertEqual({line.powens_transaction_id: Decimal(str(line.amount)) for line in lines}, expected)
        self.assertEqual(log.new_count, len(expected))
        self.assertFalse(log.error)
        self.assertEqual(self.bank.powens_state, "connected")
        self.assertTrue(self.account.last_update_cursor)
        again = self.sync()
        self.assertEqual(again.new_count, 0)
        self.assertEqual(len(self.lines()), len(expected), "a second retrieval duplicates nothing")

    def powens_now(self):
        """The sandbox clock (Powens' own), naive UTC as Odoo stores datetimes."""
        return naive_utc(parse_datetime(self.sandbox.control("GET", "/_sandbox/clock")["now"]))

    def advance_powens_clock(self, seconds):
        self.sandbox.control("POST", "/_sandbox/clock", {"advance_seconds": seconds})
        self.addCleanup(self.sandbox.control, "POST", "/_sandbox/clock", {"advance_seconds": -seconds})

    def movements_read(self):
        """Run a scheduled retrieval (no new sync at the bank: Powens' data is fresh) and
        return how many movements Powens served to it."""
        served = []
        original = AccountBankStatementLine._powens_import_page

        def count_page(lines, journal, payloads):
            served.append(len(payloads))
            return original(lines, journal, payloads)

        with patch.object(AccountBankStatementLine, "_powens_import_page", count_page):
            self.env["powens.retrieval"]._retrieve(self.bank, "cron")
        return sum(served)

    def test_cursor_follows_powens_clock_so_a_settled_history_is_read_once(self):
        self.add_movements(20)
        before = self.powens_now().replace(microsecond=0)
        self.assertGreaterEqual(self.movements_read(), 20)
        after = self.powens_now()
        # Powens' clock when it served the first page, less the margin, however long the pull took.
        self.assertTrue(before - CURSOR_MARGIN <= self.account.last_update_cursor <= after - CURSOR_MARGIN)
        # Retrievals further apart than the margin (which also covers Powens' naive stamps
        # being UTC rather than Paris time): the second may re-read what changed within it.
        self.advance_powens_clock(CURSOR_MARGIN.total_seconds() + 3600)
        self.movements_read()
        self.advance_powens_clock(CURSOR_MARGIN.total_seconds() + 3600)
        self.assertEqual(self.movements_read(), 0, "a quiet period costs nothing, whatever the history")
        self.add_movements(3)
        self.assertEqual(self.movements_read(), 3)

    def test_change_stamped_before_a_pull_but_committed_after_it_is_not_lost(self):
        """Powens' parallel writers: a change stamped a few minutes before our pull began
        appears only after it. The cursor's margin still catches it."""
        self.sync()
        self.advance_powens_clock(-CURSOR_MARGIN.total_seconds() / 2)
        late = self.add_movements(1)
        self.advance_powens_clock(CURSOR_MARGIN.total_seconds() / 2)
        self.sync()
        self.assertIn(str(late[0]), self.lines().mapped("powens_transaction_id"))

    def test_lines_carry_the_bank_data(self):
        self.add_movements(5)
        self.sync()
        line = self.lines().filtered(lambda l: l.partner_name)[:1]
        self.assertTrue(line, "the sandbox gives counterparties")
        payload = line.transaction_details
        self.assertEqual(str(payload["id"]), line.powens_transaction_id)
        self.assertEqual(line.date.isoformat(), payload["date"], "the booking date, never shifted")
        self.assertEqual(line.payment_ref, payload["simplified_wording"] or payload["wording"])
        self.assertEqual(line.powens_original_wording, payload["original_wording"])

    def test_foreign_currency_card_payment_keeps_its_original_amount(self):
        pound = self.env.ref("base.GBP")
        pound.active = True
        payload = {
            "id": 990001,
            "id_account": self.account.powens_id,
            "date": fields.Date.today().isoformat(),
            "value": -45.12,
            "original_value": -38.9,
            "original_currency": {"id": "GBP", "symbol": "£", "precision": 2},
            "type": "card",
            "coming": False,
            "deleted": None,
            "simplified_wording": "PRET A MANGER",
            "original_wording": "CB PRET A MANGER 01/03 LONDON",
            "last_update": "2025-03-03 06:41:12",
        }
        lines = self.env["account.bank.statement.line"]
        lines._powens_import_page(self.bank, [payload])
        line = self.lines().filtered(lambda l: l.powens_transaction_id == "990001")
        self.assertEqual((line.foreign_currency_id, line.amount_currency, line.amount), (pound, -38.9, -45.12))
        self.assertEqual(line.transaction_type, "card")

    def test_incremental_retrieval_brings_only_the_new_movements(self):
        self.sync()
        before = len(self.lines())
        new_ids = self.add_movements(5)
        log = self.sync()
        self.assertEqual(log.new_count, 5)
        self.assertEqual(len(self.lines()), before + 5)
        self.assertTrue(set(map(str, new_ids)) <= set(self.lines().mapped("powens_transaction_id")))

    def test_pending_movement_waits_then_becomes_one_line_whichever_id_it_keeps(self):
        self.sync()
        kept, replaced = self.add_movements(2, coming=True)
        self.sync()
        self.assertLessEqual({str(kept), str(replaced)}, self.pending())
        self.assertFalse(self.lines().filtered(lambda l: l.powens_transaction_id in (str(kept), str(replaced))))
        self.sandbox.control("POST", f"/_sandbox/transactions/{kept}/book", {"keep_id": True})
        new_id = self.sandbox.control("POST", f"/_sandbox/transactions/{replaced}/book", {"keep_id": False})["id"]
        self.sync()
        self.assertFalse({str(kept), str(replaced)} & self.pending())
        imported = self.lines().mapped("powens_transaction_id")
        self.assertEqual(imported.count(str(kept)), 1)
        self.assertEqual(imported.count(str(new_id)), 1)
        self.assertNotIn(str(replaced), imported)

    def test_movement_deleted_at_the_bank_is_flagged_not_removed(self):
        self.sync()
        line = self.lines()[:1]
        self.sandbox.control("POST", f"/_sandbox/transactions/{line.powens_transaction_id}/delete")
        log = self.sync()
        self.assertTrue(line.exists())
        self.assertTrue(line.powens_deleted_at)
        self.assertEqual(log.deleted_count, 1)
        self.assertIn("no longer listed by the bank", self.bank.message_ids[0].body)
        action = self.bank.with_user(self.setup_user).action_powens_open_lines()
        deleted = (
            self.env[action["res_model"]]
            .with_user(self.setup_user)
            .search(action["domain"] + [("powens_deleted_at", "!=", False)])
        )
        self.assertEqual(deleted, line)

    def test_failure_between_pages_loses_nothing_and_keeps_the_cursor(self):
        self.add_movements(12)
        rate_limited = {"kind": "429", "retry_after": 120, "path": "/transactions"}

        def fault_after_first_page(_retrieval):
            self.sandbox.control("POST", "/_sandbox/faults", rate_limited)

        # Not assertRaises: Odoo's rolls its savepoint back, and what the failed pull kept
        # is the point of this test.
        stopped = False
        try:
            with patch.object(PowensRetrieval, "_commit_point", fault_after_first_page):
                self.env["powens.retrieval"]._pull(self.bank, forced=False, page_size=5)
        except PowensRateLimited:
            stopped = True
        self.assertTrue(stopped, "the injected rate limit stops the pull")
        self.assertFalse(self.account.last_update_cursor, "the cursor moves only after a whole pull")
        self.assertEqual(len(self.lines()) + len(self.pending()), 5, "the first page stays imported")
        self.sandbox.control("DELETE", "/_sandbox/faults")
        self.sync()
        self.assertEqual(sorted(self.lines().mapped("powens_transaction_id")), sorted(self.booked_at_powens()))

    def test_every_transient_fault_between_pages_is_retried_without_loss_or_double(self):
        """Powens failing once in the middle of paging (5xx, truncated JSON, dropped
        connection): the client retries the page and the pull ends with every movement once.
        (Timeouts are the client's own tests: Odoo's client waits 30 s before giving up.)"""
        self.add_movements(12)
        retry_delay = PowensClient._retry_delay
        for kind in ("500", "503", "malformed", "drop"):
            with self.subTest(kind=kind):
                self.account.sudo().last_update_cursor = False
                self.lines().unlink()
                injected, waits = [], []

                def fault_after_first_page(_retrieval, kind=kind, injected=injected):
                    if not injected:
                        injected.append(
                            self.sandbox.control("POST", "/_sandbox/faults", {"kind": kind, "path": "/transactions"})
                        )

                def retried_at_once(client, error, retry, waits=waits):
                    """The wait the client chose, recorded instead of spent: the client's own tests time it."""
                    waits.append(retry_delay(client, error, retry))
                    return 0 if waits[-1] is not None else None

                with (
                    patch.object(PowensRetrieval, "_commit_point", fault_after_first_page),
                    patch.object(PowensClient, "_retry_delay", retried_at_once),
                ):
                    self.env["powens.retrieval"]._pull(self.bank, forced=False, page_size=5)
                self.assertTrue(injected)
                self.assertEqual(waits, [BACKOFF_BASE], "retried once, after the first back-off")
                self.assertFalse(self.sandbox.control("GET", "/_sandbox/faults"), "the fault was met")
                self.assertEqual(sorted(self.lines().mapped("powens_transaction_id")), sorted(self.booked_at_powens()))

    def test_synchronise_now_says_what_it_did_or_why_it_failed(self):
        self.sync()
        self.add_movements(3)
        action = self.bank.with_user(self.setup_user).action_powens_sync()
        self.assertEqual(action["params"]["type"], "info")
        self.assertIn("3 new", action["params"]["message"])
        self.sandbox.control("POST", "/_sandbox/faults", {"kind": "429", "retry_after": 120, "path": "/connections"})
        action = self.bank.with_user(self.setup_user).action_powens_sync()
        self.assertEqual(action["params"]["type"], "warning")
        self.assertIn("rate limit", action["params"]["message"])
        self.assertFalse(self.bank.powens_sync_started_at, "a failed retrieval releases the bank")

    def test_scheduled_retrieval_never_asks_for_strong_authentication(self):
        """Issue 14: the scheduled retrieval never forces a sync at all, even when Powens'
        data is old (it used to send PUT ?psu_requested=false)."""
        self.sandbox.control("DELETE", "/_sandbox/calls")
        self.bank.powens_connection_id.last_update = False
        self.env["powens.retrieval"]._retrieve(self.bank, "cron")
        syncs = [call for call in self.sandbox.control("GET", "/_sandbox/calls") if call["method"] == "PUT"]
        self.assertEqual(syncs, [])

    def test_a_bank_read_since_the_job_listed_it_is_left_to_the_worker_that_read_it(self):
        """Two workers each run a job (Odoo runs a job in one worker at a time): the second
        listed the banks due before the first read one of them; it leaves that bank, and the
        requests of a second read, alone."""
        jobs = self.env.ref("ingeneo_powens.ir_cron_powens_sync") | self.env.ref(
            "ingeneo_powens.ir_cron_powens_sync_second_worker"
        )
        self.assertEqual(set(jobs.mapped("code")), {"model._cron_powens_sync()"}, "both run the same retrieval")
        listed_at = fields.Datetime.now() - timedelta(seconds=30)
        self.env["powens.retrieval"]._retrieve(self.bank, "cron")
        self.sandbox.control("DELETE", "/_sandbox/calls")
        late = self.env["powens.retrieval"]._retrieve(self.bank, "cron", listed_at=listed_at)
        self.assertTrue(late.busy)
        self.assertEqual(self.sandbox.control("GET", "/_sandbox/calls"), [], "no second read at Powens")
        self.assertEqual(
            self.env["powens.retrieval"]._claim(self.bank, read_before=fields.Datetime.now() + timedelta(seconds=1)),
            self.bank,
            "a list made after the read takes the bank",
        )

    def test_a_bank_being_retrieved_is_not_claimed_twice(self):
        retrieval = self.env["powens.retrieval"]
        self.assertEqual(retrieval._claim(self.bank), self.bank)
        self.assertFalse(retrieval._claim(self.bank), "another worker skips a claimed bank")
        result = retrieval._retrieve(self.bank, "cron")
        self.assertTrue(result.busy, "the retrieval says it left the bank to the running one")
        self.assertFalse(self.lines())
        self.assertFalse(self.env["powens.sync.log"].search([("journal_id", "=", self.bank.id)]))
        self.assertTrue(self.bank.powens_sync_started_at, "the running retrieval's claim is untouched")

    def test_a_retrieval_derives_the_bank_status_once(self):
        """The connection's state is read once and applied once, after the movements: the
        status says "connected" only once a movement is there."""
        applied = []
        apply_state = AccountJournal._powens_apply_connection_state

        def count_and_apply(journals):
            applied.append(journals.ids)
            return apply_state(journals)

        with patch.object(AccountJournal, "_powens_apply_connection_state", count_and_apply):
            result = self.env["powens.retrieval"]._retrieve(self.bank, "cron")
        self.assertEqual(applied, [self.bank.ids])
        self.assertFalse(result.busy or result.error)
        self.assertEqual(result.new_count, len(self.lines()))
        self.assertEqual(self.bank.powens_state, "connected")

    def test_retrieval_refused_without_the_right(self):
        with self.assertRaises(AccessError):
            self.bank.with_user(self.accountant).action_powens_sync()


@tagged("post_install", "-at_install")
class TestPowensConnectionStates(ConnectedBankCase):
    """Powens' connection states drive the bank's status and remind, once, the person who
    connected it; temporary problems stay visible without reminding anyone."""

    def set_state(self, state, message=None):
        self.sandbox.control(
            "POST",
            f"/_sandbox/connections/{self.connection.powens_id}/state",
            {"state": state, "error_message": message},
        )
        self.env["powens.retrieval"]._retrieve(self.bank, "cron")

    def reminders(self, xmlid):
        activity_type = self.env.ref(xmlid)
        return self.bank.activity_ids.filtered(lambda activity: activity.activity_type_id == activity_type)

    def test_action_required_reminds_the_person_who_connected_once_then_closes(self):
        self.set_state("SCARequired", "Validez l'accès dans votre application bancaire")
        self.assertEqual(self.bank.powens_state, "action_required")
        self.assertIn("click Reconnect", self.bank.powens_message, "what to do, then the bank's words")
        self.assertIn("Validez l'accès dans votre application bancaire", self.bank.powens_message)
        reminder = self.reminders("ingeneo_powens.mail_activity_type_powens_action_required")
        self.assertEqual(reminder.user_id, self.setup_user)
        self.set_state("SCARequired", "Validez l'accès dans votre application bancaire")
        self.assertEqual(
            len(self.reminders("ingeneo_powens.mail_activity_type_powens_action_required")),
            1,
            "no flood: one reminder while the action is pending",
        )
        with freeze_time(fields.Datetime.now() + timedelta(hours=6)):
            self.assertIn(
                self.bank,
                self.env["account.journal"]._powens_cron_candidates(),
                "the cron keeps looking at a bank waiting for an action (issue 14: every 6 h)",
            )
        self.set_state(None)
        self.assertIn(self.bank.powens_state, ("waiting", "connected"))
        self.assertFalse(self.reminders("ingeneo_powens.mail_activity_type_powens_action_required"))

    def test_temporary_problem_is_visible_without_reminder(self):
        self.set_state("websiteUnavailable", "Site de la banque indisponible")
        self.assertEqual(self.bank.powens_state, "temporary", "issue 14: not shown as connected")
        self.assertIn("nothing to do", self.bank.powens_message)
        self.assertIn("Site de la banque indisponible", self.bank.powens_message)
        self.assertFalse(self.bank.activity_ids)

    def test_consent_lapsing_within_a_week_is_announced(self):
        self.sandbox.control("POST", "/_sandbox/clock", {"advance_seconds": 175 * 86400})
        with freeze_time(fields.Datetime.now() + timedelta(days=175)):
            self.env["powens.retrieval"]._retrieve(self.bank, "cron")
        reminder = self.reminders("ingeneo_powens.mail_activity_type_powens_consent_renewal")
        self.assertEqual(reminder.user_id, self.setup_user)
        self.assertEqual(reminder.date_deadline, self.connection.consent_expires_at.date())

    def test_balance_at_the_bank_is_compared_with_the_journal(self):
        self.env["powens.retrieval"]._retrieve(self.bank, "cron")
        balance, _count = self.bank._get_journal_bank_account_balance()
        self.assertTrue(self.bank.powens_balance)
        self.assertAlmostEqual(self.bank.powens_balance_difference, self.bank.powens_balance - balance)


@tagged("post_install", "-at_install")
class TestPowensScheduledRetrieval(ConnectedBankCase):
    """The cron itself, and two workers meeting on the same bank."""

    def test_cron_retrieves_every_connected_bank(self):
        self.sandbox.control(
            "POST", f"/_sandbox/accounts/{self.bank.powens_account_id.powens_id}/transactions", {"count": 7}
        )
        cron = self.env.ref("ingeneo_powens.ir_cron_powens_sync")
        with self.enter_registry_test_mode():
            cron.method_direct_trigger()
        self.env.invalidate_all()
        lines = self.env["account.bank.statement.line"].search([("journal_id", "=", self.bank.id)])
        self.assertGreaterEqual(len(lines), 7)
        log = self.env["powens.sync.log"].search([("journal_id", "=", self.bank.id)])
        self.assertEqual((log.trigger, log.new_count, log.error), ("cron", len(lines), False))
        self.assertFalse(self.bank.powens_sync_started_at, "the claim is released")

    def test_cron_retrieves_each_bank_on_its_own_prefetch_set(self):
        """A bank's retrieval writes the bank, and Odoo's tracking then computes related
        fields for every bank prefetched with it: over a firm's hundreds of banks, each
        retrieval cost grew with their number (make bench's firm scale)."""
        second = self.env["account.journal"].create({"name": "Banque 2", "type": "bank", "code": "BQ2"})
        second._powens_link_account(self.connect_at_powens(second, accounts=1).account_ids)
        prefetched = {}
        retrieve = PowensRetrieval._retrieve

        def retrieve_and_watch(retrieval, journal, trigger, **options):
            prefetched[journal.id] = set(journal._prefetch_ids)
            return retrieve(retrieval, journal, trigger, **options)

        cron = self.env.ref("ingeneo_powens.ir_cron_powens_sync")
        with patch.object(PowensRetrieval, "_retrieve", retrieve_and_watch), self.enter_registry_test_mode():
            cron.method_direct_trigger()
        self.assertEqual(prefetched, {self.bank.id: {self.bank.id}, second.id: {second.id}})

    def test_a_second_worker_skips_a_bank_being_retrieved(self):
        """Two real database sessions: while this one holds the claim's row lock, the other
        one's claim skips the bank instead of waiting or importing it twice."""
        journal = self.env["account.journal"].search(
            [("type", "=", "bank"), ("company_id", "=", self.company.id), ("id", "!=", self.bank.id)], limit=1
        )
        self.assertTrue(journal, "the chart of accounts gives a bank journal committed in the database")
        self.assertEqual(self.env["powens.retrieval"]._claim(journal), journal)
        with sql_db.db_connect(self.env.cr.dbname).cursor() as other_worker:
            other_worker.execute("SET lock_timeout = '2s'")
            other = journal.with_env(journal.env(cr=other_worker))
            self.assertFalse(other.env["powens.retrieval"]._claim(other))
