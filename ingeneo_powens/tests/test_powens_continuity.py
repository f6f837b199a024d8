"""Issue 16 §2: after every retrieval the journal's balance follows the bank's booked balance
at Powens; a gap is located, read again from Powens once, and told to the accountant once."""

from datetime import timedelta
from decimal import Decimal

from odoo import fields
from odoo.tests import tagged

from ..models.account_journal_continuity import BALANCE_GAP_ACTIVITY
from .test_powens_opening_balance import BankWithHistoryCase


@tagged("post_install", "-at_install")
class TestPowensContinuity(BankWithHistoryCase):
    def setUp(self):
        super().setUp()
        self.retrieve()
        self.bank.with_user(self.setup_user).action_powens_create_opening_balance()
        self.assertEqual(self.bank.powens_without_gap_until, fields.Date.today())
        self.today = fields.Date.today()

    def re_reads(self):
        """The calls that read the account's movements by booking date since the last reset."""
        calls = self.sandbox.control("GET", "/_sandbox/calls")
        return [call for call in calls if call["path"].endswith("/transactions") and "min_date" in call["query"]]

    def gap_activities(self):
        activity_type = self.env.ref(BALANCE_GAP_ACTIVITY)
        return self.bank.activity_ids.filtered(lambda activity: activity.activity_type_id == activity_type)

    def set_balance_at_the_bank(self, balance):
        self.sandbox.control("POST", f"/_sandbox/accounts/{self.account.powens_id}/balance", {"balance": str(balance)})

    def test_no_gap_no_request_more(self):
        self.sandbox.control("DELETE", "/_sandbox/calls")
        self.retrieve()
        self.assertEqual(self.re_reads(), [])
        self.assertFalse(self.bank.powens_gap_since)
        self.assertEqual(self.bank.powens_without_gap_until, self.today)

    def test_a_movement_the_cursor_missed_is_located_read_again_once_and_the_gap_closes(self):
        """Powens adds a movement dated five days back whose change stamp is older than the
        cursor: the incremental pull cannot see it, the balance can."""
        day = self.today - timedelta(days=5)
        [missed] = self.sandbox.control(
            "POST", f"/_sandbox/accounts/{self.account.powens_id}/transactions", {"count": 1, "date": day.isoformat()}
        )["ids"]
        self.sandbox.control("POST", f"/_sandbox/transactions/{missed}/edit", {"last_update": "2020-01-01 00:00:00"})
        self.sandbox.control("DELETE", "/_sandbox/calls")

        self.retrieve()

        line = self.lines().filtered(lambda line: line.powens_transaction_id == str(missed))
        self.assertEqual(line.date, day, "brought by the re-read")
        self.assertEqual(len(self.re_reads()), 1, "read again once")
        self.assertEqual(self.re_reads()[0]["query"].get("filter"), "date")
        self.assertEqual(self.journal_balance(), self.balance_at_powens(), "to the cent")
        self.assertFalse(self.bank.powens_gap_since)
        self.assertEqual(self.bank.powens_without_gap_until, self.today)
        self.assertFalse(self.gap_activities())
        note = self.bank.message_ids[:1].body
        self.assertIn(fields.Date.to_string(day), note, "the day the balances diverged")
        self.assertIn("1 missing movement", note)

    def test_a_line_entered_by_hand_is_located_at_its_date_and_remains(self):
        day = self.today - timedelta(days=3)
        self.env["account.bank.statement.line"].create(
            {"journal_id": self.bank.id, "date": day, "amount": -42.17, "payment_ref": "Saisie manuelle"}
        )
        self.sandbox.control("DELETE", "/_sandbox/calls")

        self.retrieve()

        self.assertEqual(len(self.re_reads()), 1)
        self.assertEqual(self.bank.powens_gap_amount, 42.17)
        self.assertEqual(self.bank.powens_gap_since, day)
        self.assertEqual(self.bank.powens_without_gap_until, day - timedelta(days=1))
        activity = self.gap_activities()
        self.assertEqual(len(activity), 1)
        self.assertEqual(activity.user_id, self.setup_user, "the accountant who connected the bank")

    def test_a_gap_that_remains_gives_one_activity_then_closes_with_it(self):
        before = self.balance_at_powens()
        self.set_balance_at_the_bank(before + Decimal("12.34"))
        self.sandbox.control("DELETE", "/_sandbox/calls")

        self.retrieve()

        self.assertEqual(len(self.re_reads()), 1, "the gap is read again once")
        self.assertEqual(self.bank.powens_gap_amount, 12.34)
        self.assertEqual(self.bank.powens_gap_since, self.today, "after the last day known without gap")
        self.assertEqual(self.bank.powens_without_gap_until, self.today - timedelta(days=1))
        self.assertEqual(len(self.gap_activities()), 1)

        self.sandbox.control("DELETE", "/_sandbox/calls")
        self.retrieve()
        self.assertEqual(self.re_reads(), [], "the same gap is not read again every hour")
        self.assertEqual(len(self.gap_activities()), 1, "nor told twice")

        self.set_balance_at_the_bank(before + Decimal("20.00"))
        self.sandbox.control("DELETE", "/_sandbox/calls")
        self.retrieve()
        self.assertEqual(len(self.re_reads()), 1, "a gap that changed is read again")
        self.assertEqual(self.bank.powens_gap_amount, 20.0)
        self.assertEqual(len(self.gap_activities()), 1, "still one activity")

        self.set_balance_at_the_bank(before)
        self.retrieve()
        self.assertFalse(self.gap_activities(), "done once the journal follows the bank again")
        self.assertFalse(self.bank.powens_gap_since)
        self.assertEqual(self.bank.powens_gap_amount, 0.0)
        self.assertEqual(self.bank.powens_without_gap_until, self.today)

    def test_a_notification_without_the_balance_checks_nothing(self):
        """A delivered notification brings movements but not the balance read with them: the
        check waits for the next pull rather than see a gap that is not there."""
        self.sandbox.control("DELETE", "/_sandbox/calls")
        self.set_balance_at_the_bank(self.balance_at_powens() + Decimal("5.00"))
        self.env["powens.retrieval"]._retrieve(self.bank, "webhook", delivered=[])
        self.assertEqual(self.re_reads(), [])
        self.assertFalse(self.bank.powens_gap_since)
