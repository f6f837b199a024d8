import math
from decimal import Decimal
from unittest.mock import patch

from odoo.tests import tagged

from ..models.powens_retrieval import PowensRetrieval
from .common import transactions_of
from .test_powens_sync import ConnectedBankCase

HISTORY = 1_000
PAGE = 1000


@tagged("post_install", "-at_install")
class TestFirstSyncOfALargeHistory(ConnectedBankCase):
    """A bank connected with a long history: 1,000 movements in one first retrieval, a full
    page of Powens' largest size. The 10,000-movement first sync accountants also bring is
    `make bench`'s (scripts/benchmark.py): Odoo books 40 to 70 statement lines a second here,
    three minutes the suite need not spend."""

    def analyze_page(self):
        """In production each page is committed and autovacuum keeps the statistics; here
        nothing commits, and tables analyzed while empty (after another test's committed data
        was removed) make PostgreSQL plan every accounting query as if they still were:
        minutes per query. ANALYZE counts the rows of its own transaction."""
        self.env.cr.execute("ANALYZE account_move, account_move_line, account_bank_statement_line")

    def test_a_thousand_movements_arrive_once_exact_to_the_cent(self):
        client = self.bank._powens_client()
        listed = sum(1 for _ in transactions_of(client, self.account.powens_id))
        self.sandbox.control(
            "POST", f"/_sandbox/accounts/{self.account.powens_id}/transactions", {"count": HISTORY - listed}
        )
        booked = {
            str(item["id"]): Decimal(str(item["value"]))
            for item in transactions_of(client, self.account.powens_id, include_deleted=False)
            if not item["coming"]
        }
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
        self.assertEqual(len(pages), math.ceil(HISTORY / PAGE), "one call per page of 1000")
        self.assertLessEqual(len(calls) - len(pages), 3, "and a few calls about the connection")
        log = self.env["powens.sync.log"].search([("journal_id", "=", self.bank.id)])
        self.assertEqual((log.new_count, log.error), (len(booked), False))
        self.assertTrue(self.account.last_update_cursor)
