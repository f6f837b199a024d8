"""One bank's failure stays its own: whatever goes wrong while retrieving one bank (Odoo refusing
its lines, its company's settings or secrets unusable), it is logged and posted on that bank,
its claim is released, the transaction is left clean, and the scheduled run goes on with the
other banks and ends well, so that Odoo never deactivates it."""

from odoo.tests import TransactionCase, tagged

from .test_powens_sync import ConnectedBankCase


@tagged("post_install", "-at_install")
class TestOneBankFailureStaysItsOwn(ConnectedBankCase, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # A bank whose lines Odoo refuses: no suspense account to book them against.
        cls.refusing_bank = cls.env["account.journal"].create(
            {"name": "Banque sans compte d'attente", "type": "bank", "company_id": cls.company.id}
        )
        connection = cls.connect_at_powens(cls.refusing_bank, accounts=1)
        cls.refusing_bank._powens_link_account(connection.account_ids)
        cls.refusing_bank.suspense_account_id = False
        # A bank of another company whose Powens client secret cannot be decrypted (a copied
        # database, a lost key).
        cls.other_company = cls.env["res.company"].create({"name": "Filiale"})
        cls.env["account.chart.template"].try_loading("generic_coa", company=cls.other_company, install_demo=False)
        cls.other_company.write(
            {
                "powens_domain": "sandbox",
                "powens_client_id": cls.sandbox.client_id,
                "powens_api_url": cls.sandbox.api_url,
                "powens_client_secret_encrypted": "not-a-sealed-secret",
            }
        )
        cls.locked_out_bank = (
            cls.env["account.journal"]
            .with_company(cls.other_company)
            .create({"name": "Banque de la filiale", "type": "bank", "company_id": cls.other_company.id})
        )
        other_user = cls.env["powens.user"].create(
            {
                "company_id": cls.other_company.id,
                "journal_id": cls.locked_out_bank.id,
                "powens_id": 999000,
                "token_encrypted": "not-a-sealed-token",
                "api_url": cls.sandbox.api_url,
            }
        )
        other_connection = cls.env["powens.connection"].create(
            {
                "name": "Banque de test",
                "company_id": cls.other_company.id,
                "powens_id": 999001,
                "user_id": other_user.id,
            }
        )
        cls.locked_out_bank.write(
            {
                "powens_connection_id": other_connection.id,
                "powens_state": "connected",
                "powens_account_id": cls.env["powens.account"]
                .create({"name": "Compte courant", "connection_id": other_connection.id, "powens_id": 999002})
                .id,
            }
        )
        cls.sandbox.control("POST", f"/_sandbox/accounts/{cls.account.powens_id}/transactions", {"count": 4})

    def log_of(self, journal):
        return self.env["powens.sync.log"].search([("journal_id", "=", journal.id)], limit=1)

    def lines_of(self, journal):
        return self.env["account.bank.statement.line"].search([("journal_id", "=", journal.id)])

    def test_scheduled_run_goes_on_past_failing_banks_and_ends_well(self):
        cron = self.env.ref("ingeneo_powens.ir_cron_powens_sync")
        with self.enter_registry_test_mode():
            outcome = cron.method_direct_trigger()
        self.env.invalidate_all()
        self.assertIs(outcome, True, "the job itself did not fail")
        self.assertEqual((cron.active, cron.failure_count), (True, 0), "never on the way to deactivation")

        healthy = self.log_of(self.bank)
        self.assertEqual((healthy.trigger, healthy.error), ("cron", False))
        self.assertTrue(self.lines_of(self.bank))
        self.assertEqual(healthy.new_count, len(self.lines_of(self.bank)))

        refused = self.log_of(self.refusing_bank)
        self.assertIn("suspense account", refused.error)
        self.assertFalse(self.lines_of(self.refusing_bank), "no half-imported page")
        self.assertIn("The retrieval of the movements failed", self.refusing_bank.message_ids[:1].body)

        locked_out = self.log_of(self.locked_out_bank)
        self.assertIn("cannot be decrypted", locked_out.error)
        self.assertNotIn("Traceback", locked_out.error)
        self.assertIn("The retrieval of the movements failed", self.locked_out_bank.message_ids[:1].body)

        for journal in (self.bank, self.refusing_bank, self.locked_out_bank):
            self.assertFalse(journal.powens_sync_started_at, f"{journal.name}: claim released")
        self.assertFalse(self.refusing_bank.powens_account_id.last_update_cursor, "the failed pull did not move on")

    def test_synchronise_now_reports_the_failure_and_leaves_the_transaction_clean(self):
        action = self.refusing_bank.with_user(self.setup_user).action_powens_sync()
        self.assertEqual(action["params"]["type"], "warning")
        self.assertIn("suspense account", action["params"]["message"])
        self.assertFalse(self.refusing_bank.powens_sync_started_at)
        self.assertFalse(self.lines_of(self.refusing_bank))
        # The same transaction goes on: the other bank is retrieved in it.
        self.bank.with_user(self.setup_user).action_powens_sync()
        self.assertTrue(self.lines_of(self.bank))
        self.assertFalse(self.log_of(self.bank).error)

    def test_a_repeated_failure_is_posted_once(self):
        for _attempt in range(3):
            self.env["powens.retrieval"]._retrieve(self.refusing_bank, "cron")
        posted = self.refusing_bank.message_ids.filtered(
            lambda message: "The retrieval of the movements failed" in (message.body or "")
        )
        self.assertEqual(len(posted), 1, "the log keeps each attempt, the chatter the news")
        self.assertEqual(len(self.env["powens.sync.log"].search([("journal_id", "=", self.refusing_bank.id)])), 3)
