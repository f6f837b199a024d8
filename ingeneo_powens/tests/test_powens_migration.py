"""The 19.0.1.1.0 migration: a database of 19.0.1.0.0, whose single company Powens user holds
every bank, keeps retrieving those banks without anyone connecting them again."""

import importlib.util
from pathlib import Path

from odoo.tests import TransactionCase, tagged
from odoo.tools.sql import column_exists

from .common import TEST_BANK_NAME, PowensSandboxMixin

MIGRATION = Path(__file__).resolve().parents[1] / "migrations" / "19.0.1.1.0" / "post-migrate.py"


def load_migration():
    spec = importlib.util.spec_from_file_location("ingeneo_powens_post_migrate_19_0_1_1_0", MIGRATION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@tagged("post_install", "-at_install")
class TestPowensMigrationToUsersPerBank(PowensSandboxMixin, TransactionCase):
    def make_old_company_user(self):
        """The columns and values 19.0.1.0.0 kept on the company: a Powens user created with
        the client credentials, its token encrypted as that version did."""
        cr = self.env.cr
        cr.execute(
            "ALTER TABLE res_company ADD COLUMN powens_user_id integer, ADD COLUMN powens_user_token_encrypted varchar"
        )
        auth = self.company._powens_client().init_user()
        ciphertext = self.company._powens_seal(auth["auth_token"])
        cr.execute(
            "UPDATE res_company SET powens_user_id = %s, powens_user_token_encrypted = %s WHERE id = %s",
            [auth["id_user"], ciphertext, self.company.id],
        )
        return auth

    def connect_with_old_user(self, journal, auth):
        """A bank connected by the company's user, recorded as 19.0.1.0.0 did (no Powens user
        on the connection), its account linked, and movements waiting at Powens."""
        client = self.company._powens_client().with_token(auth["auth_token"])
        test_bank = client.list_connectors(search=TEST_BANK_NAME)[0]
        created = self.sandbox.control(
            "POST",
            f"/_sandbox/users/{auth['id_user']}/connections",
            {"connector_uuid": test_bank["uuid"], "login": "alice", "password": "secret", "accounts": 1, "months": 0},
        )
        connection = self.env["powens.connection"]._sync_from_powens(
            self.company, client.get_connection(created["id"], expand=("connector", "sources"))
        )
        account = self.env["powens.account"]._sync_from_powens(connection, client.list_accounts(created["id"]))
        journal.powens_connection_id = connection
        journal._powens_link_account(account)
        self.sandbox.control("POST", f"/_sandbox/accounts/{account.powens_id}/transactions", {"count": 4})
        return connection

    def test_old_company_user_becomes_the_user_of_its_banks_which_still_retrieve(self):
        auth = self.make_old_company_user()
        second_bank = self.env["account.journal"].create(
            {"name": "Banque seconde", "type": "bank", "company_id": self.company.id}
        )
        connections = self.connect_with_old_user(self.bank, auth) | self.connect_with_old_user(second_bank, auth)
        self.assertFalse(connections.user_id, "shaped like 19.0.1.0.0: no Powens user on the connections")
        self.env.flush_all()

        load_migration().migrate(self.env.cr, "19.0.1.0.0")
        self.env.invalidate_all()

        legacy = self.env["powens.user"].search([("company_id", "=", self.company.id)])
        self.assertEqual(len(legacy), 1)
        self.assertEqual(
            (legacy.powens_id, legacy.journal_id.id, legacy.api_url),
            (auth["id_user"], False, self.company.sudo().powens_api_url),
        )
        self.assertEqual(connections.user_id, legacy, "the company's user keeps holding its connections")
        self.assertFalse(
            column_exists(self.env.cr, "res_company", "powens_user_token_encrypted"),
            "no token left where the neutralization does not look",
        )
        for journal in (self.bank, second_bank):
            with self.subTest(bank=journal.name):
                journal.with_user(self.setup_user).action_powens_sync()
                lines = self.env["account.bank.statement.line"].search([("journal_id", "=", journal.id)])
                self.assertGreaterEqual(len(lines), 4, "the bank retrieves as before the migration")
        self.assertEqual(self.env["res.company"]._powens_company_of_user(auth["id_user"]), self.company)
        # Renewing a legacy bank's consent stays with the user holding its connection; a bank
        # connected from now on gets a user of its own.
        reconnect_url = self.start_webview(self.bank, flow="reconnect")
        state = self.env["powens.webview.state"].search([], order="id desc", limit=1)
        self.assertIn("reconnect", reconnect_url)
        self.assertEqual(state.powens_user_id, legacy)
        new_bank = self.env["account.journal"].create(
            {"name": "Banque neuve", "type": "bank", "company_id": self.company.id}
        )
        self.start_webview(new_bank)
        state = self.env["powens.webview.state"].search([], order="id desc", limit=1)
        self.assertEqual(state.powens_user_id.journal_id, new_bank)
        self.assertNotEqual(state.powens_user_id, legacy)

    def test_migration_of_a_database_without_powens_user_changes_nothing(self):
        self.env.cr.execute(
            "ALTER TABLE res_company ADD COLUMN powens_user_id integer, ADD COLUMN powens_user_token_encrypted varchar"
        )
        load_migration().migrate(self.env.cr, "19.0.1.0.0")
        self.assertFalse(self.env["powens.user"].with_context(active_test=False).search([]))
        self.assertFalse(column_exists(self.env.cr, "res_company", "powens_user_id"))
