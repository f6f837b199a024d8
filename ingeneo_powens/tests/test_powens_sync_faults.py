"""A retrieval interrupted at every page boundary and in the middle of every page — the worker
killed, its database connection lost, Powens failing — then resumed, ends with exactly the lines
of an uninterrupted retrieval: none lost, none doubled, every amount to the cent.

Each page is committed on its own in production (the scheduled retrieval's ``_commit_point``
is the cron's ``_commit_progress``); here a savepoint stands for each commit, and an interruption rolls back
to the last one, which is what PostgreSQL does to the transaction of a dead worker.
"""

from decimal import Decimal
from unittest.mock import patch

from psycopg2 import OperationalError

from odoo.tests import tagged

from ..models.account_bank_statement_line import AccountBankStatementLine
from ..models.powens_retrieval import PowensRetrieval
from ..powens import PowensError
from .test_powens_sync import ConnectedBankCase

# Five full pages, each interrupted in every way: small pages keep the movements imported per
# case few.
PAGE_SIZE = 2
PAGES = 5


class Killed(BaseException):
    """The worker dies: nothing after this point runs, nothing uncommitted survives."""


def connection_dropped():
    return OperationalError("terminating connection due to administrator command")


@tagged("post_install", "-at_install")
class TestPowensInterruptedRetrieval(ConnectedBankCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # The day's few movements at the bank, topped up to the pages wanted.
        cls.sandbox.control(
            "POST",
            f"/_sandbox/accounts/{cls.account.powens_id}/transactions",
            {"count": max(PAGES * PAGE_SIZE - len(cls.booked_at_powens()), 0)},
        )
        cls.expected = sorted(cls.booked_at_powens().items())
        cls.pages = -(-len(cls.expected) // PAGE_SIZE)

    def pull(self):
        self.env["powens.retrieval"]._pull(self.bank, forced=False, page_size=PAGE_SIZE)

    def imported(self):
        self.env.invalidate_all()
        lines = self.env["account.bank.statement.line"].search([("journal_id", "=", self.bank.id)])
        return sorted((line.powens_transaction_id, Decimal(str(line.amount))) for line in lines)

    def interrupted_then_resumed(self, interrupt):
        """Pull with ``interrupt(page_number, phase)`` called after each page is committed
        (phase "boundary") and in the middle of each page (phase "mid-page"); when it raises,
        roll back to the last commit, then resume with a plain pull. Returns the lines."""
        savepoint = [self.env.cr.savepoint()]
        pages_done = [0]
        import_page = AccountBankStatementLine._powens_import_page

        def commit_point(_retrieval):
            savepoint[0].close(rollback=False)
            savepoint[0] = self.env.cr.savepoint()
            pages_done[0] += 1
            interrupt(pages_done[0], "boundary")

        def import_half_then_interrupt(lines, journal, payloads):
            half = len(payloads) // 2
            counts = import_page(lines, journal, payloads[:half])
            interrupt(pages_done[0] + 1, "mid-page")
            rest = import_page(lines, journal, payloads[half:])
            return {key: counts[key] + rest[key] for key in counts}

        with (
            patch.object(AccountBankStatementLine, "_powens_import_page", import_half_then_interrupt),
            patch.object(PowensRetrieval, "_commit_point", commit_point),
        ):
            try:
                self.pull()
            except (Killed, OperationalError, PowensError):
                savepoint[0].close(rollback=True)
                self.env.invalidate_all()
            else:
                savepoint[0].close(rollback=False)
                self.fail("the retrieval was not interrupted")
        self.sandbox.control("DELETE", "/_sandbox/faults")
        self.pull()
        return self.imported()

    def every_interruption_resumed(self, cause, phases):
        """Interrupt a retrieval by ``cause`` at each page in each of ``phases``, resume it each
        time, and compare the lines with an uninterrupted retrieval's; returns the faults played."""
        self.assertGreaterEqual(self.pages, PAGES)
        with self.env.cr.savepoint(flush=False) as reference:
            self.pull()
            self.assertEqual(self.imported(), self.expected, "the uninterrupted reference")
            reference.close(rollback=True)
        self.env.invalidate_all()
        self.assertFalse(self.imported(), "each case starts from a bank never retrieved")
        faults, lost, doubled = 0, 0, 0
        for phase in phases:
            for page in range(1, self.pages + (phase == "mid-page")):

                def interrupt(number, when, phase=phase, page=page):
                    if (number, when) != (page, phase):
                        return
                    if cause == "killed":
                        raise Killed()
                    if cause == "connection dropped":
                        raise connection_dropped()
                    self.sandbox.control(
                        "POST", "/_sandbox/faults", {"kind": "429", "retry_after": 120, "path": "/transactions"}
                    )

                with self.subTest(phase=phase, page=page), self.env.cr.savepoint(flush=False) as case:
                    imported = self.interrupted_then_resumed(interrupt)
                    faults += 1
                    ids = [powens_id for powens_id, _amount in imported]
                    lost += len(set(self.expected) - set(imported))
                    doubled += len(ids) - len(set(ids))
                    self.assertEqual(imported, self.expected)
                    case.close(rollback=True)
                self.env.invalidate_all()
        self.assertEqual((lost, doubled), (0, 0))
        return faults

    # One test per cause: spread over the test workers, and a failure names its cause.
    def test_a_killed_worker_is_resumed_without_loss_nor_duplicate(self):
        faults = self.every_interruption_resumed("killed", ("boundary", "mid-page"))
        self.assertEqual(faults, 2 * self.pages - 1, "at every page boundary, and in every page")

    def test_a_lost_database_connection_is_resumed_without_loss_nor_duplicate(self):
        faults = self.every_interruption_resumed("connection dropped", ("boundary", "mid-page"))
        self.assertEqual(faults, 2 * self.pages - 1, "at every page boundary, and in every page")

    def test_powens_failing_between_pages_is_resumed_without_loss_nor_duplicate(self):
        # Powens answers whole pages: it fails between them only.
        faults = self.every_interruption_resumed("Powens failing", ("boundary",))
        self.assertEqual(faults, self.pages - 1, "at every page boundary")
