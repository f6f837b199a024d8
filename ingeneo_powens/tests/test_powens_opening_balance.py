"""Issue 16 §1: after a bank's first retrieval, the balance at the start of its history."""

from datetime import timedelta
from decimal import Decimal

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import TransactionCase, tagged

from .common import PowensSandboxMixin, transactions_of


class BankWithHistoryCase(PowensSandboxMixin, TransactionCase):
    """A bank connected to one sandbox account with a month of history, by the holder of the
    right; nothing retrieved yet."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.connection = cls.connect_at_powens(cls.bank, accounts=1, months=1)
        cls.connection.connected_by_id = cls.setup_user
        cls.account = cls.connection.account_ids
        cls.bank._powens_link_account(cls.account)
        cls.client = cls.bank._powens_client()

    def retrieve(self):
        """A scheduled retrieval: reads what Powens has, asks no new sync of the bank."""
        return self.env["powens.retrieval"]._retrieve(self.bank, "cron")

    def booked_at_powens(self):
        """The account's booked movements as Powens lists them: id -> (date, amount)."""
        return {
            str(item["id"]): (fields.Date.to_date(item["date"]), Decimal(str(item["value"])))
            for item in transactions_of(self.client, self.account.powens_id, include_deleted=False)
            if not item["coming"]
        }

    def balance_at_powens(self):
        accounts = self.client.list_accounts(self.connection.powens_id)
        return next(Decimal(str(item["balance"])) for item in accounts if item["id"] == self.account.powens_id)

    def journal_balance(self):
        return Decimal(str(self.bank._get_journal_bank_account_balance()[0])).quantize(Decimal("0.01"))

    def lines(self):
        return self.env["account.bank.statement.line"].search([("journal_id", "=", self.bank.id)])


@tagged("post_install", "-at_install")
class TestPowensOpeningBalance(BankWithHistoryCase):
    def test_first_retrieval_of_an_empty_journal_offers_the_opening_balance_to_the_cent(self):
        self.retrieve()
        booked = self.booked_at_powens()
        expected = self.balance_at_powens() - sum(amount for _date, amount in booked.values())
        first_day = min(day for day, _amount in booked.values())
        self.assertEqual(self.bank.powens_opening_state, "to_create")
        self.assertEqual(Decimal(str(self.bank.powens_opening_balance)).quantize(Decimal("0.01")), expected)
        self.assertEqual(self.bank.powens_opening_date, first_day - timedelta(days=1))
        self.assertEqual(self.bank.powens_without_gap_until, fields.Date.today(), "the opening apart, no gap")

        self.bank.with_user(self.setup_user).action_powens_create_opening_balance()

        opening = self.lines().filtered(lambda line: not line.powens_transaction_id)
        self.assertEqual(len(opening), 1)
        self.assertEqual(Decimal(str(opening.amount)).quantize(Decimal("0.01")), expected)
        self.assertEqual(opening.date, first_day - timedelta(days=1))
        self.assertIn("Opening balance", opening.payment_ref)
        self.assertEqual(self.bank.powens_opening_state, "created")
        self.assertEqual(self.journal_balance(), self.balance_at_powens(), "the journal equals the bank")
        self.assertEqual(self.bank.powens_balance_difference, 0.0)

    def test_nothing_is_offered_before_the_bank_delivered_its_history(self):
        """Powens' first sync of a new connection takes 48 to 72 hours: until then a retrieval
        reads the balance and no movement, which is no opening balance."""
        self.sandbox.control("POST", "/_sandbox/settings", {"first_sync_delay": 3600})
        self.addCleanup(self.sandbox.control, "POST", "/_sandbox/settings", {"first_sync_delay": 0})
        bank = self.env["account.journal"].create({"name": "Banque en attente", "type": "bank"})
        account = self.connect_at_powens(bank, accounts=1, months=1).account_ids
        bank._powens_link_account(account)
        self.env["powens.retrieval"]._retrieve(bank, "cron")
        self.assertEqual((bank.powens_state, bank.powens_opening_state), ("waiting", False))
        self.sandbox.control("POST", "/_sandbox/clock", {"advance_seconds": 3601})
        self.addCleanup(self.sandbox.control, "POST", "/_sandbox/clock", {"advance_seconds": -3601})
        self.env["powens.retrieval"]._retrieve(bank, "cron")
        lines = self.env["account.bank.statement.line"].search([("journal_id", "=", bank.id)])
        self.assertTrue(lines, "the history arrived")
        self.assertEqual(bank.powens_opening_state, "to_create")
        self.assertEqual(
            Decimal(str(bank.powens_opening_balance)).quantize(Decimal("0.01")),
            Decimal(str(account.balance)).quantize(Decimal("0.01")) - sum(Decimal(str(line.amount)) for line in lines),
            "the balance at the start of the history, not the whole balance",
        )

    def test_the_opening_balance_is_created_once(self):
        self.retrieve()
        self.bank.with_user(self.setup_user).action_powens_create_opening_balance()
        with self.assertRaisesRegex(UserError, "already created"):
            self.bank.with_user(self.setup_user).action_powens_create_opening_balance()
        self.assertEqual(len(self.lines().filtered(lambda line: not line.powens_transaction_id)), 1)

    def test_lines_entered_after_the_first_retrieval_refuse_the_computed_opening_balance(self):
        self.retrieve()
        self.env["account.bank.statement.line"].create(
            {"journal_id": self.bank.id, "date": fields.Date.today(), "amount": 10.0, "payment_ref": "Saisie"}
        )
        with self.assertRaisesRegex(UserError, "entered in this journal since the first retrieval"):
            self.bank.with_user(self.setup_user).action_powens_create_opening_balance()
        self.assertEqual(self.bank.powens_opening_state, "to_create")

    def test_a_journal_with_earlier_lines_gets_the_gap_explained_and_no_line(self):
        earlier = self.env["account.bank.statement.line"].create(
            {"journal_id": self.bank.id, "date": "2020-01-31", "amount": 1500.25, "payment_ref": "Relevé papier"}
        )
        self.retrieve()
        difference = self.balance_at_powens() - self.journal_balance()
        self.assertEqual(self.bank.powens_opening_state, "explained")
        self.assertEqual(Decimal(str(self.bank.powens_explained_difference)).quantize(Decimal("0.01")), difference)
        self.assertAlmostEqual(self.bank.powens_balance_difference, float(difference), places=2)
        with self.assertRaisesRegex(UserError, "no opening balance to create"):
            self.bank.with_user(self.setup_user).action_powens_create_opening_balance()
        self.assertEqual(self.lines().filtered(lambda line: not line.powens_transaction_id), earlier)
        self.assertFalse(self.bank.powens_gap_since, "an explained difference is no gap")
        self.assertFalse(self.bank.activity_ids)

    def test_a_user_without_the_right_cannot_create_the_opening_balance(self):
        self.retrieve()
        with self.assertRaises(AccessError):
            self.bank.with_user(self.accountant).action_powens_create_opening_balance()
        self.assertFalse(self.lines().filtered(lambda line: not line.powens_transaction_id))
        self.assertEqual(self.bank.powens_opening_state, "to_create")

    def test_another_companys_bank_is_refused(self):
        company_2 = self.env["res.company"].create({"name": "INGENEO Filiale 2"})
        bank_2 = self.env["account.journal"].create(
            {"name": "Banque filiale 2", "type": "bank", "company_id": company_2.id}
        )
        bank_2.write(
            {
                "powens_opening_state": "to_create",
                "powens_opening_balance": 100.0,
                "powens_opening_date": fields.Date.today(),
            }
        )
        with self.assertRaises(AccessError):
            bank_2.with_user(self.setup_user).action_powens_create_opening_balance()
        self.assertFalse(self.env["account.bank.statement.line"].search([("journal_id", "=", bank_2.id)]))
