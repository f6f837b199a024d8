"""The bank's history start holds on every path a movement can take (first pull, an old row
edited at Powens, a first-sync notification arriving after the callback), and a movement dated
in a locked period keeps its bank date when Odoo books it at the first open date."""

import time
from datetime import timedelta
from decimal import Decimal

from odoo import fields
from odoo.tests import HttpCase, TransactionCase, tagged

from .. import const
from ..models.powens_retrieval import CURSOR_MARGIN
from ..powens.values import parse_date
from .common import TEST_BANK_NAME, PowensSandboxMixin, transactions_of


class HistoryCaseMixin(PowensSandboxMixin):
    """A connection with a month of history at the sandbox, its account not linked yet: each
    case sets the history start it needs, then links the bank."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.connection = cls.connect_at_powens(cls.bank, accounts=1, months=1)
        cls.account = cls.connection.account_ids
        cls.client = cls.bank._powens_client()

    def booked_at_powens(self):
        """The account's booked, not deleted movements as Powens lists them, with no filter."""
        return [
            item
            for item in transactions_of(self.client, self.account.powens_id, include_deleted=False)
            if not item["coming"]
        ]

    def expected_from(self, history_start):
        return {
            str(item["id"]): Decimal(str(item["value"]))
            for item in self.booked_at_powens()
            if parse_date(item["date"]) >= history_start
        }

    def lines(self):
        self.env.invalidate_all()
        return self.env["account.bank.statement.line"].search([("journal_id", "=", self.bank.id)])

    def imported(self):
        return {line.powens_transaction_id: Decimal(str(line.amount)) for line in self.lines()}

    def last_log(self):
        return self.env["powens.sync.log"].search([("journal_id", "=", self.bank.id)], limit=1)


@tagged("post_install", "-at_install")
class TestHistoryBoundOfPulls(HistoryCaseMixin, TransactionCase):
    def boundary_crossing_movement(self):
        """The latest booked card payment ordered one day and booked a later one: the history
        start on its booking day separates Powens' default date (application_date) from the
        statement line's (date)."""
        crossing = [
            item
            for item in self.booked_at_powens()
            if item["application_date"] and item["application_date"] < item["date"]
        ]
        self.assertTrue(crossing, "the sandbox books card payments a day or two after they are made")
        return max(crossing, key=lambda item: (item["date"], item["id"]))

    def test_first_pull_bounds_movements_by_their_booking_date(self):
        crossing = self.boundary_crossing_movement()
        history_start = parse_date(crossing["date"])
        self.company.powens_history_start = history_start
        self.bank._powens_link_account(self.account)
        self.sandbox.control("DELETE", "/_sandbox/calls")
        self.env["powens.retrieval"]._retrieve(self.bank, "cron")
        expected = self.expected_from(history_start)
        self.assertIn(str(crossing["id"]), expected)
        self.assertEqual(
            self.imported(), expected, "every movement booked since the history start, to the cent, and nothing before"
        )
        query = next(
            call["query"]
            for call in self.sandbox.control("GET", "/_sandbox/calls")
            if call["path"].endswith("/transactions")
        )
        self.assertEqual((query.get("filter"), query.get("min_date")), ("date", history_start.isoformat()))

    def test_the_bank_keeps_the_history_start_it_was_linked_with(self):
        self.company.powens_history_start = fields.Date.today() - timedelta(days=20)
        self.bank._powens_link_account(self.account)
        self.assertEqual(self.bank.powens_history_start, self.company.powens_history_start)
        self.company.powens_history_start = fields.Date.today() - timedelta(days=300)
        self.assertEqual(
            self.bank._powens_history_start(),
            fields.Date.today() - timedelta(days=20),
            "a later change of the company's default does not move a linked bank's history",
        )

    def test_a_bank_of_its_own_history_start_overrides_the_company(self):
        own_start = fields.Date.today() - timedelta(days=6)
        self.company.powens_history_start = fields.Date.today() - timedelta(days=60)
        self.bank.powens_history_start = own_start
        self.bank._powens_link_account(self.account)
        self.env["powens.retrieval"]._retrieve(self.bank, "cron")
        self.assertEqual(self.imported(), self.expected_from(own_start))
        self.assertTrue(all(line.date >= own_start for line in self.lines()))

    def test_an_old_movement_edited_at_powens_stays_out(self):
        """An incremental pull asks for what changed (`last_update`), whatever its date: an
        old movement Powens rewrites comes back, and must not enter the bank."""
        history_start = fields.Date.today() - timedelta(days=10)
        self.company.powens_history_start = history_start
        self.bank._powens_link_account(self.account)
        self.env["powens.retrieval"]._retrieve(self.bank, "cron")
        self.retrieve_later()  # re-reads what changed within the cursor's margin: settled after
        self.assertEqual(self.imported(), self.expected_from(history_start), "re-read, still bounded")
        before = self.imported()
        old = [item for item in self.booked_at_powens() if parse_date(item["date"]) < history_start][:3]
        self.assertEqual(len(old), 3, "a month of history reaches before the start")
        for item in old:
            self.sandbox.control(
                "POST", f"/_sandbox/transactions/{item['id']}/edit", {"wording": "LIBELLÉ RECATÉGORISÉ"}
            )
        self.retrieve_later()
        self.assertEqual(self.imported(), before, "nothing from before the history start")
        self.assertEqual(self.last_log().before_history_count, len(old), "the edited old movements came back")

    def retrieve_later(self):
        """A scheduled retrieval once Powens' clock has moved past the cursor's margin."""
        seconds = CURSOR_MARGIN.total_seconds() + 3600
        self.sandbox.control("POST", "/_sandbox/clock", {"advance_seconds": seconds})
        self.addCleanup(self.sandbox.control, "POST", "/_sandbox/clock", {"advance_seconds": -seconds})
        self.env["powens.retrieval"]._retrieve(self.bank, "cron")


@tagged("post_install", "-at_install")
class TestLockedPeriods(HistoryCaseMixin, TransactionCase):
    """Odoo 19 posts a statement line dated in a locked period at the first open date
    (account.move._post → _get_accounting_date): the bank's own date stays on the line."""

    def test_movements_of_a_locked_fiscal_period_keep_their_bank_date_and_are_counted(self):
        self.check_locked_period("fiscalyear_lock_date")

    def test_movements_before_the_hard_lock_keep_their_bank_date_and_are_counted(self):
        self.check_locked_period("hard_lock_date")

    def check_locked_period(self, lock_field):
        history_start = fields.Date.today() - timedelta(days=20)
        lock_date = fields.Date.today() - timedelta(days=10)
        self.company[lock_field] = lock_date
        self.company.powens_history_start = history_start
        self.bank._powens_link_account(self.account)
        self.env["powens.retrieval"]._retrieve(self.bank, "cron")

        expected = self.expected_from(history_start)
        lines = self.lines()
        self.assertEqual(self.imported(), expected, "every movement, each once, to the cent")
        self.assertEqual(sum(self.imported().values()), sum(expected.values()))
        by_id = {str(item["id"]): parse_date(item["date"]) for item in self.booked_at_powens()}
        locked = lines.filtered(lambda line: by_id[line.powens_transaction_id] <= lock_date)
        self.assertTrue(locked, "the history reaches into the locked period")
        for line in lines:
            self.assertEqual(line.powens_bank_date, by_id[line.powens_transaction_id], "the bank's own date")
        self.assertTrue(all(line.date > lock_date for line in locked), "booked by Odoo after the lock")
        self.assertTrue(all(line.date == line.powens_bank_date for line in lines - locked))
        self.assertTrue(all(line.move_id.state == "posted" for line in lines))
        self.assertEqual(self.last_log().locked_period_count, len(locked))
        message = self.bank.message_ids[:1]
        self.assertIn(f"{len(locked)} movement(s) are dated in a locked period", message.body)


@tagged("post_install", "-at_install")
class TestHistoryBoundOfNotifications(HistoryCaseMixin, HttpCase):
    """Powens' first sync may end after the webview callback linked the bank (its movements
    "may still be syncing in background" at the redirect), or before: both orders, end to end
    with the sandbox notifying Odoo."""

    @classmethod
    def setUpClass(cls):
        # No connection for the class: each case makes its own, with its own Powens user (the
        # company's token is the case's, rolled back with it, as the sandbox goes back to the
        # class's state before each case).
        super(HistoryCaseMixin, cls).setUpClass()

    def setUp(self):
        super().setUp()
        self.sandbox.control(
            "POST",
            "/_sandbox/webhooks",
            {"url": self.base_url() + const.WEBHOOK_ROUTE, "secret": self.sandbox.webhook_secret},
        )

    def create_at_powens(self):
        """The bank login at Powens, as the webview makes it: the bank's Powens user first,
        committed to the test cursor the notifications are processed on."""
        self.powens_user = self.company._powens_create_user(self.bank)
        self.client = self.powens_user._powens_client()
        self.env.flush_all()
        test_bank = self.client.list_connectors(search=TEST_BANK_NAME)[0]
        return self.sandbox.control(
            "POST",
            f"/_sandbox/users/{self.powens_user.powens_id}/connections",
            {"connector_uuid": test_bank["uuid"], "login": "alice", "password": "secret", "accounts": 1, "months": 1},
        )

    def callback(self, created, history_start):
        """What the webview callback records, then the link of the bank with its history start;
        flushed, for the notifications that follow."""
        self.connection = self.env["powens.connection"]._sync_from_powens(
            self.company,
            self.client.get_connection(created["id"], expand=("connector", "sources")),
            user=self.powens_user,
        )
        self.env["powens.account"]._sync_from_powens(self.connection, self.client.list_accounts(created["id"]))
        self.account = self.connection.account_ids
        self.company.powens_history_start = history_start  # the bank takes it when linked
        self.bank._powens_link_account(self.account)
        self.env.flush_all()

    def wait_for_deliveries(self, events):
        deadline = time.monotonic() + 20
        while True:
            deliveries = self.sandbox.control("GET", "/_sandbox/webhooks/deliveries")
            if events <= {item["event"] for item in deliveries if item["status"] == 200}:
                return deliveries
            self.assertLess(time.monotonic(), deadline, f"no successful delivery: {deliveries}")
            time.sleep(0.1)

    def test_first_sync_notified_after_the_callback_respects_the_history_start(self):
        self.sandbox.control("POST", "/_sandbox/settings", {"first_sync_delay": 600})
        history_start = fields.Date.today() - timedelta(days=7)
        with self.allow_requests(all_requests=True):
            created = self.create_at_powens()
            self.callback(created, history_start)
            self.assertFalse(self.booked_at_powens(), "the first sync has not ended yet")
            # The first sync ends, and Powens notifies the movements it found.
            self.sandbox.control("POST", "/_sandbox/clock", {"advance_seconds": 601})
            self.wait_for_deliveries({"CONNECTION_SYNCED", "ACCOUNT_SYNCED"})
        self.assertTrue(
            [item for item in self.booked_at_powens() if parse_date(item["date"]) < history_start],
            "Powens synced older movements",
        )
        self.assertEqual(
            self.imported(), self.expected_from(history_start), "the notified history, from the start on, to the cent"
        )
        logs = self.env["powens.sync.log"].search([("journal_id", "=", self.bank.id), ("trigger", "=", "webhook")])
        self.assertTrue(logs and all(not log.error for log in logs))
        self.assertGreater(sum(logs.mapped("before_history_count")), 0)

    def test_first_sync_notified_before_the_callback_leaves_the_first_pull_bounded(self):
        history_start = fields.Date.today() - timedelta(days=7)
        with self.allow_requests(all_requests=True):
            created = self.create_at_powens()
            deliveries = self.wait_for_deliveries({"CONNECTION_SYNCED", "ACCOUNT_SYNCED"})
        self.assertEqual({item["status"] for item in deliveries}, {200}, "acknowledged, no bank fed yet")
        self.callback(created, history_start)
        self.assertFalse(self.lines())
        self.env["powens.retrieval"]._retrieve(self.bank, "cron")
        self.assertEqual(self.imported(), self.expected_from(history_start))
