"""The Powens settings: encryption at rest keyed by the server configuration, URLs derived from
the domain, "Test the connection", the settings block reserved to holders, neutralization, and
"Is my bank compatible?"."""

from contextlib import contextmanager
from unittest.mock import patch

from cryptography.fernet import Fernet
from lxml import etree

from odoo.exceptions import AccessError, UserError
from odoo.tests import TransactionCase, tagged
from odoo.tools import config, file_open

from ..const import SETUP_GROUP
from .common import PowensSandboxMixin, new_user

POWENS_SETTINGS_FIELDS = [
    "powens_domain",
    "powens_client_id",
    "powens_client_secret",
    "powens_webhook_secret",
    "powens_api_url",
    "powens_webview_url",
    "powens_redirect_uri",
    "powens_webhook_url",
]
SECRET_COLUMNS = ("powens_client_secret_encrypted", "powens_webhook_secret_encrypted")


@tagged("post_install", "-at_install")
class TestPowensSettings(PowensSandboxMixin, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.settings_admin = new_user(
            cls.env, login="powens_settings_admin", groups="base.group_system,account.group_account_user," + SETUP_GROUP
        )
        cls.plain_admin = new_user(
            cls.env, login="powens_plain_admin", groups="base.group_system,account.group_account_user"
        )

    # --- helpers -------------------------------------------------------------------------------

    @contextmanager
    def encryption_key(self, key):
        """Run with ``powens_encryption_key`` set to ``key`` in the server configuration."""
        with patch.dict(config._runtime_options, {"powens_encryption_key": key}):
            yield

    def stored(self, company=None):
        """The secret columns as PostgreSQL holds them."""
        self.env.flush_all()
        self.env.cr.execute(
            f"SELECT {', '.join(SECRET_COLUMNS)} FROM res_company WHERE id = %s", [(company or self.company).id]
        )
        return dict(zip(SECRET_COLUMNS, self.env.cr.fetchone(), strict=False))

    def read_client_secret(self):
        self.company.invalidate_recordset()
        return self.company._powens_read_secret("powens_client_secret_encrypted")

    def write_client_secret(self, value):
        self.company.with_user(self.settings_admin).write({"powens_client_secret": value})

    def powens_paths_called(self):
        return [call["path"] for call in self.sandbox.control("GET", "/_sandbox/calls")]

    def settings_of(self, user):
        return self.env["res.config.settings"].with_user(user).create({})

    # --- encryption key ------------------------------------------------------------------------

    def test_writing_a_secret_without_encryption_key_fails_and_stores_nothing(self):
        """No key, no storage: a clear error rather than a secret kept in clear."""
        before = self.stored()
        with self.encryption_key(""), self.assertRaisesRegex(UserError, "powens_encryption_key"):
            self.write_client_secret("typed-without-key")
        self.assertEqual(self.stored(), before)
        with self.encryption_key(""), self.assertRaisesRegex(UserError, "powens_encryption_key"):
            self.company._powens_read_secret("powens_client_secret_encrypted")

    def test_writing_a_secret_with_a_malformed_key_fails_and_stores_nothing(self):
        """A key that is not a Fernet key (or a key list with a bad member) is refused too."""
        before = self.stored()
        good = Fernet.generate_key().decode()
        for key in ("not-a-fernet-key", good[:-4], f"{good},garbage", " , "):
            with self.subTest(key=key), self.encryption_key(key), self.assertRaises(UserError):
                self.write_client_secret("typed-with-bad-key")
        self.assertEqual(self.stored(), before)
        self.assertNotIn("typed-with-bad-key", str(self.stored()))

    def test_secrets_stay_readable_after_adding_a_new_key(self):
        """Rotation, step 1: with "new,old" configured, what the old key encrypted still reads,
        and what is written now is encrypted under the new key."""
        old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
        with self.encryption_key(old):
            self.write_client_secret("secret-under-old-key")
        with self.encryption_key(new), self.assertRaises(UserError, msg="the new key alone cannot read it"):
            self.read_client_secret()
        with self.encryption_key(f"{new},{old}"):
            self.assertEqual(self.read_client_secret(), "secret-under-old-key")
            self.company.with_user(self.settings_admin).write({"powens_webhook_secret": "webhook-under-new-key"})
        with self.encryption_key(new):
            self.assertEqual(
                self.company._powens_read_secret("powens_webhook_secret_encrypted"), "webhook-under-new-key"
            )

    def test_rotated_secrets_need_only_the_new_key(self):
        """Rotation, step 2: after _powens_rotate_secrets under "new,old", every secret (client,
        webhook, user token) reads with the new key alone and no longer with the old one."""
        old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
        clear = {
            "powens_client_secret_encrypted": "client-to-rotate",
            "powens_webhook_secret_encrypted": "webhook-to-rotate",
        }
        with self.encryption_key(old):
            for column, value in clear.items():
                self.company.sudo()._powens_store_secret(column, value)
            bank_user = (
                self.env["powens.user"]
                .sudo()
                .create(
                    {
                        "company_id": self.company.id,
                        "journal_id": self.bank.id,
                        "powens_id": 999001,
                        "token_encrypted": self.company._powens_seal("token-to-rotate"),
                    }
                )
            )
        before = dict(self.stored(), token=bank_user.token_encrypted)
        with self.encryption_key(f"{new},{old}"):
            self.company.with_user(self.settings_admin)._powens_rotate_secrets()
        self.env.invalidate_all()
        after = dict(self.stored(), token=bank_user.token_encrypted)
        self.assertTrue(all(before[column] != ciphertext for column, ciphertext in after.items()))
        with self.encryption_key(new):
            self.assertEqual({column: self.company._powens_read_secret(column) for column in clear}, clear)
            self.assertEqual(self.company._powens_unseal(bank_user.token_encrypted), "token-to-rotate")
        for column in clear:
            with self.subTest(column=column), self.encryption_key(old), self.assertRaises(UserError):
                self.company._powens_read_secret(column)
        with self.encryption_key(old), self.assertRaises(UserError):
            self.company._powens_unseal(bank_user.token_encrypted)

    # --- fields --------------------------------------------------------------------------------

    def test_urls_derive_from_the_domain(self):
        """The production addresses follow the contract's domain."""
        for domain, api_url in (
            ("ingeneo", "https://ingeneo.biapi.pro/2.0"),
            ("ingeneo-sandbox", "https://ingeneo-sandbox.biapi.pro/2.0"),
        ):
            with self.subTest(domain=domain):
                self.company.with_user(self.settings_admin).powens_domain = domain
                self.assertEqual(self.company.powens_api_url, api_url)
                self.assertEqual(self.company.powens_webview_url, "https://webview.powens.com")

    def test_urls_stay_overridable(self):
        """The local sandbox and on-premise proxies the server configuration allows replace
        the derived addresses, even when written together with the domain, and other writes
        keep the override."""
        company = self.company.with_user(self.settings_admin)
        with patch.dict(config._runtime_options, {"powens_allowed_hosts": "proxy.example"}):
            company.write(
                {
                    "powens_domain": "ingeneo",
                    "powens_api_url": "https://proxy.example/2.0",
                    "powens_webview_url": "https://proxy.example/webview",
                }
            )
            company.write({"powens_client_id": "42"})
        company.invalidate_recordset()
        self.assertEqual(company.powens_api_url, "https://proxy.example/2.0")
        self.assertEqual(company.powens_webview_url, "https://proxy.example/webview")

    def test_secret_fields_never_return_the_secret_but_tell_it_is_set(self):
        """The form shows "set" / "not set", never the value, even to a holder who is admin."""
        fresh = self.env["res.company"].create({"name": "Sans Powens"})
        for company, is_set in ((self.company, True), (fresh, False)):
            with self.subTest(company=company.name):
                values = company.with_user(self.settings_admin).read(
                    [
                        "powens_client_secret",
                        "powens_webhook_secret",
                        "powens_client_secret_set",
                        "powens_webhook_secret_set",
                    ]
                )[0]
                self.assertEqual((values["powens_client_secret"], values["powens_webhook_secret"]), (False, False))
                self.assertEqual(
                    (values["powens_client_secret_set"], values["powens_webhook_secret_set"]), (is_set, is_set)
                )
        # The Settings show the database's contract (issue 17): not set, then set.
        self.assertFalse(self.settings_of(self.settings_admin).powens_client_secret_set)
        self.configure_database_contract()
        settings = self.settings_of(self.settings_admin)
        self.assertFalse(settings.powens_client_secret)
        self.assertTrue(settings.powens_client_secret_set)

    # --- Test the connection -------------------------------------------------------------------

    def test_settings_test_connection_succeeds_against_the_sandbox(self):
        """From the settings form: the saved credentials of the database's contract work and
        Powens lists its banks."""
        self.configure_database_contract()
        action = self.settings_of(self.settings_admin).action_powens_test_connection()
        self.assertEqual(action["params"]["type"], "success")
        self.assertIn("banks are available", action["params"]["message"])
        self.assertNotIn("/2.0/auth/init", self.powens_paths_called(), "testing creates no Powens user")
        self.assertFalse(self.env["powens.user"].with_context(active_test=False).search([]))

    def test_settings_test_connection_fails_clearly_on_a_wrong_client_secret(self):
        """A wrong secret is reported as Powens' refusal, without echoing the secret, and
        leaves no Powens user behind."""
        self.assertFalse(self.company.sudo().powens_user_ids, "no Powens user yet")
        self.configure_database_contract()
        settings = self.settings_of(self.settings_admin)
        settings.powens_client_secret = "wrong-client-secret"
        with self.assertRaisesRegex(UserError, "Powens refused the connection test") as error:
            settings.action_powens_test_connection()
        self.assertNotIn("wrong-client-secret", str(error.exception))
        self.assertFalse(self.company.sudo().powens_user_ids)

    # --- visibility, neutralization ------------------------------------------------------------

    def test_powens_settings_block_shown_only_to_holders(self):
        """An accounting administrator (who holds the right by implication) sees the Powens
        block; a system administrator without the right gets neither the block nor its fields."""
        accounting_admin = new_user(
            self.env, login="powens_accounting_admin", groups="base.group_system,account.group_account_manager"
        )
        self.assertTrue(accounting_admin.has_group(SETUP_GROUP))
        self.assertFalse(self.plain_admin.has_group(SETUP_GROUP))
        for user, visible in ((accounting_admin, True), (self.plain_admin, False)):
            with self.subTest(user=user.login):
                settings = self.env["res.config.settings"].with_user(user)
                arch = settings.get_views([(False, "form")])["views"]["form"]["arch"]
                self.assertEqual('id="powens_settings"' in arch, visible)
                self.assertEqual('name="powens_client_secret"' in arch, visible)
                self.assertEqual(
                    set(settings.fields_get(POWENS_SETTINGS_FIELDS)) == set(POWENS_SETTINGS_FIELDS), visible
                )
        # Accounting settings are shown to accounting administrators only, who all hold the
        # right: the block must carry the right itself, for whoever else may see that page.
        block = etree.fromstring(self.env.ref("ingeneo_powens.res_config_settings_view_form_powens").arch).find(
            ".//block[@id='powens_settings']"
        )
        self.assertEqual(block.get("groups"), SETUP_GROUP)

    def test_neutralize_blanks_the_secrets(self):
        """A copied database forgets the secrets and tokens, so it cannot talk to Powens."""
        self.company._powens_create_user(self.bank)  # the bank's Powens user: a token to forget
        self.assertTrue(all(self.stored().values()))
        with file_open("ingeneo_powens/data/neutralize.sql") as neutralize:
            self.env.cr.execute(neutralize.read())
        self.env.invalidate_all()
        self.env.cr.execute("""
            SELECT count(*) FROM res_company
             WHERE powens_client_secret_encrypted IS NOT NULL OR powens_webhook_secret_encrypted IS NOT NULL""")
        self.assertEqual(self.env.cr.fetchone()[0], 0)
        self.env.cr.execute("SELECT count(*) FROM powens_user WHERE token_encrypted IS NOT NULL")
        self.assertEqual(self.env.cr.fetchone()[0], 0, "no Powens user token left")
        self.sandbox.control("DELETE", "/_sandbox/calls")
        with self.assertRaises(UserError):
            self.company.action_powens_test_connection()
        self.assertNotIn("/2.0/auth/init", self.powens_paths_called(), "no credentials left to send")

    # --- Is my bank compatible? ------------------------------------------------------------------

    def search_banks(self, text):
        search = self.env["powens.connector.search"].with_user(self.setup_user).create({"search_text": text})
        search.action_search()
        self.assertTrue(search.searched)
        return search.result_ids.mapped("name")

    def test_connector_search_finds_societe_generale_typed_without_accents(self):
        """People type "societe", the sandbox lists "Société Générale"."""
        self.assertIn("Société Générale", self.search_banks("societe"))
        self.assertIn("Société Générale", self.search_banks("Société"))

    def test_connector_search_finds_nothing_for_an_unknown_bank(self):
        self.assertTrue(self.search_banks("banque"), "the search does list banks")
        self.assertEqual(self.search_banks("Banque Zorglub Intergalactique"), [])

    def test_holder_who_is_not_administrator_sets_the_retrieval_not_the_contract(self):
        """The right is grantable on its own: its holder changes the retrieval settings from the
        POWENS menu, without the right to edit the company or to open the Settings app; the
        contract stays a system administrator's (issue 13)."""
        self.assertFalse(self.setup_user.has_group("base.group_erp_manager"))
        company = self.company.with_user(self.setup_user)
        action = company.action_open_powens_settings()
        self.assertEqual((action["res_model"], action["res_id"]), ("res.company", self.company.id))
        company.write({"powens_history_start": "2025-01-01", "powens_request_validity_days": 10})
        self.assertEqual(self.company.powens_request_validity_days, 10)
        with self.assertRaises(AccessError):
            company.write({"powens_domain": "ingeneo", "powens_client_secret": "new-secret"})
        with self.assertRaises(AccessError):
            company.write({"powens_history_start": "2024-01-01", "name": "Renamed"})
        with self.assertRaises(AccessError):
            self.company.with_user(self.accountant).write({"powens_history_start": "2024-01-01"})
        with self.assertRaises(AccessError):
            self.company.with_user(self.accountant).action_open_powens_settings()
        self.assertEqual(self.company.powens_domain, "sandbox")
        self.assertEqual(self.read_client_secret(), self.sandbox.client_secret)
