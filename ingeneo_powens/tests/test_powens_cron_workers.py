import threading
from contextlib import contextmanager

from odoo import SUPERUSER_ID, api, sql_db
from odoo.tests import TransactionCase, tagged
from odoo.tools import SQL

from .common import TEST_BANK_NAME, shared_sandbox, transactions_of

MOVEMENTS = 120


@tagged("post_install", "-at_install")
class TestTwoCronWorkers(TransactionCase):
    """Two cron workers (two servers, or two workers of one) running the retrieval at the
    same moment, each with its own database connection, on committed data as in
    production: every movement is imported once.

    The test's own transaction cannot be seen by other connections, so this case commits
    its bank in the main company and removes it afterwards, restoring the company's Powens
    settings as they were."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sandbox = shared_sandbox()
        cls.dbname = cls.env.cr.dbname
        cls.company_id = cls.env.ref("base.main_company").id
        with cls.committed_env() as env:
            cls.saved_settings = cls.powens_settings(env)
        cls.addClassCleanup(cls.remove_committed_data)
        with cls.committed_env() as env:
            cls.journal_id, cls.expected_ids = cls.connect_committed_bank(env)

    @classmethod
    @contextmanager
    def committed_env(cls):
        """A superuser environment on a connection of its own, committed on exit."""
        with sql_db.db_connect(cls.dbname).cursor() as cr:
            yield api.Environment(cr, SUPERUSER_ID, {})

    @classmethod
    def powens_settings(cls, env):
        env.cr.execute("""SELECT column_name FROM information_schema.columns
                           WHERE table_name = 'res_company' AND column_name LIKE 'powens%%'""")
        columns = [row[0] for row in env.cr.fetchall()]
        env.cr.execute(
            SQL(
                "SELECT %s FROM res_company WHERE id = %s", SQL(", ").join(map(SQL.identifier, columns)), cls.company_id
            )
        )
        return dict(zip(columns, env.cr.fetchone(), strict=False))

    @classmethod
    def connect_committed_bank(cls, env):
        company = env["res.company"].browse(cls.company_id)
        company.write(
            {
                "powens_domain": "sandbox",
                "powens_client_id": cls.sandbox.client_id,
                "powens_client_secret": cls.sandbox.client_secret,
                "powens_api_url": cls.sandbox.api_url,
                "powens_webview_url": cls.sandbox.webview_url,
            }
        )
        journal = env["account.journal"].create({"name": "Banque deux serveurs", "type": "bank", "code": "BDS"})
        powens_user = company._powens_create_user(journal)
        client = powens_user._powens_client()
        test_bank = client.list_connectors(search=TEST_BANK_NAME)[0]
        created = cls.sandbox.control(
            "POST",
            f"/_sandbox/users/{powens_user.powens_id}/connections",
            {"connector_uuid": test_bank["uuid"], "login": "alice", "password": "secret", "accounts": 1, "months": 0},
        )
        connection = env["powens.connection"]._sync_from_powens(
            company, client.get_connection(created["id"], expand=("connector", "sources")), user=powens_user
        )
        account = env["powens.account"]._sync_from_powens(connection, client.list_accounts(created["id"]))
        journal.powens_connection_id = connection
        journal._powens_link_account(account)
        cls.sandbox.control("POST", f"/_sandbox/accounts/{account.powens_id}/transactions", {"count": MOVEMENTS})
        expected = sorted(
            str(item["id"])
            for item in transactions_of(client, account.powens_id, include_deleted=False)
            if not item["coming"]
        )
        return journal.id, expected

    @classmethod
    def remove_committed_data(cls):
        with cls.committed_env() as env:
            journal = env["account.journal"].browse(cls.journal_id).exists()
            connection = journal.powens_connection_id
            powens_user = connection.user_id
            env["account.bank.statement.line"].search([("journal_id", "=", journal.id)]).unlink()
            journal.unlink()
            connection.unlink()
            powens_user.unlink()
            env.cr.execute(
                SQL(
                    "UPDATE res_company SET %s WHERE id = %s",
                    SQL(", ").join(
                        SQL("%s = %s", SQL.identifier(column), value) for column, value in cls.saved_settings.items()
                    ),
                    cls.company_id,
                )
            )
            env.registry.clear_cache()

    def run_cron_on_two_workers(self):
        start = threading.Barrier(2)
        failures = []

        def worker():
            try:
                with self.committed_env() as env:
                    start.wait(timeout=30)
                    env["account.journal"]._cron_powens_sync()
            except Exception as error:  # noqa: BLE001 - reported by the test below
                failures.append(error)

        workers = [threading.Thread(target=worker, name=f"cron-worker-{index}") for index in range(2)]
        for thread in workers:
            thread.start()
        for thread in workers:
            thread.join(timeout=300)
        self.assertFalse(failures)

    def imported(self):
        with self.committed_env() as env:
            lines = env["account.bank.statement.line"].search([("journal_id", "=", self.journal_id)])
            logs = env["powens.sync.log"].search([("journal_id", "=", self.journal_id)])
            return sorted(lines.mapped("powens_transaction_id")), logs.mapped("new_count")

    def test_two_workers_at_once_import_each_movement_once(self):
        self.run_cron_on_two_workers()
        imported, new_counts = self.imported()
        self.assertEqual(imported, self.expected_ids, "each movement once, none missing")
        self.assertEqual(new_counts, [len(self.expected_ids)], "one worker retrieved the bank, the other skipped it")
        with self.committed_env() as env:
            # Due again at once (issue 14: the next scheduled read would come 2 hours later).
            env["account.journal"].browse(self.journal_id).powens_last_read_at = False
        self.run_cron_on_two_workers()
        imported, new_counts = self.imported()
        self.assertEqual(imported, self.expected_ids, "a second round at once adds nothing")
        self.assertEqual(sorted(new_counts), [0, len(self.expected_ids)])
