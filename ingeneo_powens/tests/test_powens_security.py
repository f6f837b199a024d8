"""Who may do what with Powens: the accounting-setup right enforced server-side, company
isolation, and no secret in clear in the database, the logs or the webview URL."""
import logging
from contextlib import contextmanager
from urllib.parse import parse_qs, urlsplit

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import HttpCase, new_test_user, tagged

from ..const import SETUP_GROUP
from .common import PowensSandboxMixin, WebviewDriver

ENCRYPTED_COLUMNS = (
    "powens_client_secret_encrypted", "powens_webhook_secret_encrypted", "powens_user_token_encrypted")
# Powens settings of the company a user without the right must not read.
COMPANY_POWENS_FIELDS = (
    "powens_domain", "powens_client_id", "powens_api_url", "powens_webview_url",
    "powens_client_secret", "powens_webhook_secret", "powens_client_secret_set",
    "powens_webhook_secret_set", "powens_user_id") + ENCRYPTED_COLUMNS
POWENS_RECORD_MODELS = ("powens.connection", "powens.account", "powens.consent")


@contextmanager
def loggers_at_debug(*names):
    """Lower loggers given their own level (the test runner silences "odoo") to DEBUG, so
    that everything reaches the root logger."""
    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


class PowensSecurityCase(PowensSandboxMixin):
    """Helpers shared by the security tests: banks connected straight through the sandbox's
    control API (no webview needed), wizards opened by a given user, the webview round trip."""

    def open_wizard(self, model, user, **values):
        """A wizard created by ``user`` (its owner) whatever their rights, so that what is
        tested is the action, not the creation."""
        return self.env[model].with_user(user).sudo().create(values).sudo(False)

    def stored_ciphertexts(self):
        """The secret columns of the company as PostgreSQL holds them."""
        self.env.flush_all()
        self.env.cr.execute(
            f"SELECT {', '.join(ENCRYPTED_COLUMNS)} FROM res_company WHERE id = %s", [self.company.id])
        return self.env.cr.fetchone()

    def powens_calls(self):
        return self.sandbox.control("GET", "/_sandbox/calls")

    def callback_path(self, journal, user=None):
        """Start the webview as ``user``, connect at the sandbox, return the callback path."""
        url = self.start_webview(journal, user=user)
        callback = WebviewDriver(self.sandbox.webview_url).connect(url)
        base_url = journal.get_base_url()
        self.assertTrue(callback.startswith(base_url + "/powens/callback?"))
        return callback[len(base_url):]

    def open_callback(self, path, login):
        self.authenticate(login, login)
        return self.url_open(path, allow_redirects=False)

    def assert_refused(self, user, actions):
        """Every action in ``actions`` (name -> callable(user)) raises AccessError for ``user``,
        and none of them reaches Powens nor leaves a trace."""
        calls_before = len(self.powens_calls())
        consents_before = self.env["powens.consent"].search_count([])
        states_before = self.env["powens.webview.state"].search_count([])
        for name, run in actions.items():
            with self.subTest(user=user.login, action=name), self.assertRaises(AccessError):
                run(user)
        self.assertEqual(len(self.powens_calls()), calls_before, "a refused action reached Powens")
        self.assertEqual(self.env["powens.consent"].search_count([]), consents_before)
        self.assertEqual(self.env["powens.webview.state"].search_count([]), states_before)


@tagged("post_install", "-at_install")
class TestPowensRights(PowensSecurityCase, HttpCase):
    """The accounting-setup right guards every Powens action on the server, not only the buttons."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.connected_bank = cls.env["account.journal"].create(
            {"name": "Banque connectée", "type": "bank", "company_id": cls.company.id})
        cls.connection = cls.connect_at_powens(cls.connected_bank)
        cls.portal = new_test_user(cls.env, login="powens_portal", password="powens_portal", groups="base.group_portal")
        cls.public = cls.env.ref("base.public_user")
        cls.plain_admin = new_test_user(
            cls.env, login="powens_plain_admin", groups="base.group_system,account.group_account_user")

    def powens_actions(self):
        """Every Powens action, as ``name -> (run(user), check(result))``; the destructive
        disconnection comes last."""
        return {
            "journal.action_powens_connect": (
                lambda user: self.bank.with_user(user).action_powens_connect(),
                lambda result: self.assertEqual(result["res_model"], "powens.consent.wizard")),
            "journal.action_powens_reconnect": (
                lambda user: self.connected_bank.with_user(user).action_powens_reconnect(),
                lambda result: self.assertEqual(result["context"]["default_flow"], "reconnect")),
            "journal.action_powens_choose_account": (
                lambda user: self.connected_bank.with_user(user).action_powens_choose_account(),
                lambda result: self.assertEqual(result["res_model"], "powens.account.link.wizard")),
            "journal.action_powens_search_connectors": (
                lambda user: self.bank.with_user(user).action_powens_search_connectors(),
                lambda result: self.assertEqual(result["res_model"], "powens.connector.search")),
            "journal._powens_webview_url": (
                lambda user: self.bank.with_user(user)._powens_webview_url("connect", None),
                lambda url: self.assertTrue(url.startswith(self.sandbox.webview_url + "/"))),
            "company.action_add_bank": (
                lambda user: self.company.with_user(user).action_add_bank(),
                lambda result: self.assertEqual(result["context"]["default_company_id"], self.company.id)),
            "company.action_powens_test_connection": (
                lambda user: self.company.with_user(user).action_powens_test_connection(),
                lambda result: self.assertEqual(result["params"]["type"], "success")),
            "powens.consent.wizard.action_continue": (
                lambda user: self.open_wizard(
                    "powens.consent.wizard", user, journal_id=self.bank.id, accepted=True).action_continue(),
                lambda result: self.assertTrue(result["url"].startswith(self.sandbox.webview_url + "/"))),
            "powens.account.link.wizard.action_link": (
                lambda user: self.open_wizard(
                    "powens.account.link.wizard", user, journal_id=self.connected_bank.id,
                    account_id=self.connection.account_ids[0].id).action_link(),
                lambda _result: self.assertEqual(self.connected_bank.powens_account_id, self.connection.account_ids[0])),
            "powens.connector.search.action_search": (
                lambda user: self.open_wizard(
                    "powens.connector.search", user, company_id=self.company.id, search_text="banque").action_search(),
                lambda result: self.assertTrue(self.env["powens.connector.search"].browse(result["res_id"]).result_ids)),
            "journal.action_powens_disconnect": (
                lambda user: self.connected_bank.with_user(user).action_powens_disconnect(),
                lambda _result: self.assertEqual(self.connected_bank.powens_state, "disconnected")),
        }

    def test_users_without_the_right_are_refused_every_powens_action(self):
        """Hidden buttons are not a protection: each method refuses on its own."""
        actions = {name: run for name, (run, _check) in self.powens_actions().items()}
        for user in (self.accountant, self.portal, self.public, self.plain_admin):
            self.assertFalse(user.has_group(SETUP_GROUP))
            self.assert_refused(user, actions)
        self.assertEqual(self.connected_bank.powens_connection_id, self.connection, "still connected")
        self.assertTrue(self.connection.active)

    def test_holder_without_admin_rights_can_run_every_powens_action(self):
        """The right is enough on its own: no system administration needed."""
        self.assertFalse(self.setup_user.has_group("base.group_system"))
        self.assertFalse(self.setup_user.has_group("account.group_account_manager"))
        for name, (run, check) in self.powens_actions().items():
            with self.subTest(action=name):
                check(run(self.setup_user))

    def test_users_without_the_right_cannot_read_powens_records(self):
        """Connections, accounts and consents are readable by holders only (access rights)."""
        for model in POWENS_RECORD_MODELS:
            for user in (self.accountant, self.portal, self.plain_admin):
                with self.subTest(model=model, user=user.login), self.assertRaises(AccessError):
                    self.env[model].with_user(user).search([])
            with self.subTest(model=model, user="holder"):
                self.assertTrue(self.env[model].with_user(self.setup_user).search([]))

    def test_company_powens_settings_hidden_from_users_without_the_right(self):
        """The Powens fields of the company carry the right as field groups."""
        for field_name in COMPANY_POWENS_FIELDS:
            with self.subTest(field=field_name), self.assertRaises(AccessError):
                self.company.with_user(self.accountant).read([field_name])
        holder_company = self.company.with_user(self.setup_user)
        values = holder_company.read(["powens_domain", "powens_client_id", "powens_client_secret_set"])[0]
        self.assertEqual(values["powens_client_id"], self.sandbox.client_id)
        self.assertTrue(values["powens_client_secret_set"])

    def test_ciphertexts_readable_by_system_administrators_only(self):
        """Even a holder reads no ciphertext: the issue reserves them to administrators."""
        for field_name in ENCRYPTED_COLUMNS:
            with self.subTest(field=field_name), self.assertRaises(AccessError):
                self.company.with_user(self.setup_user).read([field_name])

    def test_users_without_the_right_cannot_write_the_secrets(self):
        """Neither an accountant nor an administrator lacking the right replaces a secret."""
        before = self.stored_ciphertexts()
        for user in (self.accountant, self.plain_admin):
            for field_name in ("powens_client_secret", "powens_webhook_secret"):
                with self.subTest(user=user.login, field=field_name), self.assertRaises(AccessError):
                    self.company.with_user(user).write({field_name: "hijacked-secret"})
        self.assertEqual(self.stored_ciphertexts(), before)

    def test_callback_refuses_a_holder_whose_right_was_removed(self):
        """A genuine state is not enough: the right is checked again when Powens sends the
        browser back (it may have been withdrawn in between)."""
        path = self.callback_path(self.bank)
        self.setup_user.group_ids = [Command.unlink(self.env.ref(SETUP_GROUP).id)]
        self.assertFalse(self.setup_user.has_group(SETUP_GROUP))
        response = self.open_callback(path, "powens_setup")
        self.assertEqual(response.status_code, 400)
        self.assertFalse(self.bank.powens_connection_id, "nothing changed on the bank")
        self.assertEqual(self.bank.powens_state, "not_connected")
        self.assertEqual(self.env["powens.connection"].search([]), self.connection, "no connection recorded")

    def test_callback_refuses_a_portal_user_with_a_genuine_state(self):
        """A portal user (auth="user" lets them in) cannot use a holder's round trip; the
        holder still can, which proves the state was genuine."""
        path = self.callback_path(self.bank)
        response = self.open_callback(path, "powens_portal")
        self.assertEqual(response.status_code, 400)
        self.assertFalse(self.bank.powens_connection_id)
        response = self.open_callback(path, "powens_setup")
        self.assertEqual(response.status_code, 303)
        self.assertTrue(self.bank.powens_connection_id)

    def test_callback_sends_the_public_to_the_login_page(self):
        """Not logged in: no Powens code runs, the browser goes to the login page."""
        path = self.callback_path(self.bank)
        self.authenticate(None, None)
        response = self.url_open(path, allow_redirects=False)
        self.assertIn(response.status_code, (302, 303))
        self.assertIn("/web/login", response.headers["Location"])
        self.assertFalse(self.bank.powens_connection_id)


@tagged("post_install", "-at_install")
class TestPowensMultiCompany(PowensSecurityCase, HttpCase):
    """Users act in their allowed companies only, and each company uses its own Powens user."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_b = cls.env["res.company"].create({"name": "INGENEO Filiale B"})
        cls.configure_powens(cls.company_b)
        cls.bank_b = cls.env["account.journal"].create(
            {"name": "Banque B", "type": "bank", "company_id": cls.company_b.id})
        cls.connection_b = cls.connect_at_powens(cls.bank_b)
        cls.user_both = new_test_user(
            cls.env, login="powens_both", password="powens_both",
            groups="base.group_user,account.group_account_user," + SETUP_GROUP,
            company_id=cls.company.id, company_ids=[cls.company.id, cls.company_b.id])

    def test_holder_of_company_a_cannot_act_on_company_b(self):
        """The right in company A gives nothing in company B."""
        self.assert_refused(self.setup_user, {
            "journal.action_powens_connect": lambda user: self.bank_b.with_user(user).action_powens_connect(),
            "journal.action_powens_reconnect": lambda user: self.bank_b.with_user(user).action_powens_reconnect(),
            "journal.action_powens_disconnect": lambda user: self.bank_b.with_user(user).action_powens_disconnect(),
            "journal.action_powens_choose_account": lambda user: self.bank_b.with_user(user).action_powens_choose_account(),
            "journal.action_powens_search_connectors": lambda user: self.bank_b.with_user(user).action_powens_search_connectors(),
            "journal._powens_webview_url": lambda user: self.bank_b.with_user(user)._powens_webview_url("connect", None),
            "company.action_add_bank": lambda user: self.company_b.with_user(user).action_add_bank(),
            "company.action_powens_test_connection": lambda user: self.company_b.with_user(user).action_powens_test_connection(),
            "powens.consent.wizard.action_continue": lambda user: self.open_wizard(
                "powens.consent.wizard", user, journal_id=self.bank_b.id, accepted=True).action_continue(),
            "powens.account.link.wizard.action_link": lambda user: self.open_wizard(
                "powens.account.link.wizard", user, journal_id=self.bank_b.id,
                account_id=self.connection_b.account_ids[0].id).action_link(),
            "powens.connector.search.action_search": lambda user: self.open_wizard(
                "powens.connector.search", user, company_id=self.company_b.id, search_text="banque").action_search(),
        })
        self.assertEqual(self.bank_b.powens_connection_id, self.connection_b)
        self.assertFalse(self.bank_b.powens_account_id)

    def test_holder_of_company_a_cannot_read_company_b_powens_records(self):
        """Record rules: B's connection, accounts and consent are invisible from A."""
        records_b = {
            "powens.connection": self.connection_b,
            "powens.account": self.connection_b.account_ids,
            "powens.consent": self.env["powens.consent"].search([("company_id", "=", self.company_b.id)]),
        }
        for model, records in records_b.items():
            with self.subTest(model=model):
                self.assertTrue(records)
                self.assertFalse(self.env[model].with_user(self.setup_user).search([("id", "in", records.ids)]))
                with self.assertRaises(AccessError):
                    records.with_user(self.setup_user).read(["company_id"])
                self.assertEqual(self.env[model].with_user(self.user_both).search([("id", "in", records.ids)]), records)

    def test_holder_of_both_companies_connects_each_bank_in_its_own_company(self):
        """The same user connects A's and B's banks; each round trip, consent and Powens user
        belongs to the bank's company."""
        for company, journal in ((self.company, self.bank), (self.company_b, self.bank_b)):
            with self.subTest(company=company.name):
                url = self.start_webview(journal.with_company(company), user=self.user_both)
                self.assertTrue(parse_qs(urlsplit(url).query)["code"])
                consent = self.env["powens.consent"].search(
                    [("journal_id", "=", journal.id), ("user_id", "=", self.user_both.id)])
                self.assertEqual(consent.company_id, company)
                state = self.env["powens.webview.state"].search([("consent_id", "=", consent.id)])
                self.assertEqual((state.user_id, state.company_id), (self.user_both, company))
        self.assertTrue(self.company.powens_user_id and self.company_b.powens_user_id)
        self.assertNotEqual(self.company.powens_user_id, self.company_b.powens_user_id,
                            "each company has its own Powens user")

    def test_callback_refuses_a_holder_removed_from_the_bank_company(self):
        """A round trip started in B cannot be finished once the user left B."""
        bank_b2 = self.env["account.journal"].create(
            {"name": "Banque B2", "type": "bank", "company_id": self.company_b.id})
        path = self.callback_path(bank_b2.with_company(self.company_b), user=self.user_both)
        self.user_both.company_ids = [Command.unlink(self.company_b.id)]
        response = self.open_callback(path, "powens_both")
        self.assertEqual(response.status_code, 400)
        self.assertFalse(bank_b2.powens_connection_id, "nothing changed on B's bank")
        self.assertEqual(self.env["powens.connection"].search([("company_id", "=", self.company_b.id)]),
                         self.connection_b)


@tagged("post_install", "-at_install")
class TestPowensSecretsAtRest(PowensSecurityCase, HttpCase):
    """After a whole connection, the secrets exist only as ciphertext, in the database and
    everywhere else."""

    def clear_secrets(self):
        token = self.company._powens_read_secret("powens_user_token_encrypted")
        self.assertTrue(token, "the flow created the company's Powens user")
        return {"client secret": self.sandbox.client_secret, "webhook secret": self.sandbox.webhook_secret,
                "user token": token}

    def connect_through_webview(self):
        self.assertEqual(self.open_callback(self.callback_path(self.bank), "powens_setup").status_code, 303)
        self.assertTrue(self.bank.powens_connection_id)

    def text_columns_by_table(self):
        self.env.cr.execute("""
            SELECT c.table_name, array_agg(c.column_name::text ORDER BY c.column_name)
              FROM information_schema.columns c
              JOIN information_schema.tables t
                ON t.table_schema = c.table_schema AND t.table_name = c.table_name
             WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'
               AND c.data_type IN ('character varying', 'text', 'character', 'jsonb', 'json')
             GROUP BY c.table_name
        """)
        return dict(self.env.cr.fetchall())

    def columns_holding(self, needle):
        """Every ``table.column`` whose text holds ``needle`` (one query per table)."""
        found = []
        for table, columns in self.text_columns_by_table().items():
            checks = ", ".join(f'bool_or(strpos("{column}"::text, %(needle)s) > 0)' for column in columns)
            self.env.cr.execute(f'SELECT {checks} FROM "{table}"', {"needle": needle})
            found += [f"{table}.{column}" for column, hit in zip(columns, self.env.cr.fetchone()) if hit]
        return found

    def test_connect_flow_stores_only_ciphertext(self):
        """The three secret columns hold Fernet ciphertext of the right values, and no text
        column of any table holds a secret in clear."""
        self.connect_through_webview()
        secrets = self.clear_secrets()
        box = self.company._powens_secret_box()
        for column, ciphertext, clear in zip(ENCRYPTED_COLUMNS, self.stored_ciphertexts(), secrets.values()):
            with self.subTest(column=column):
                self.assertTrue(ciphertext and ciphertext.startswith("gAAAAA"), "Fernet token")
                self.assertEqual(box.decrypt(ciphertext), clear)
        self.assertIn("res_company.powens_client_secret_encrypted", self.columns_holding(
            self.company.sudo().powens_client_secret_encrypted), "the scan reads res_company")
        for name, clear in secrets.items():
            with self.subTest(secret=name):
                self.assertEqual(self.columns_holding(clear), [])

    def test_connect_flow_logs_no_secret(self):
        """Every record logged (DEBUG included, Powens client and HTTP server alike) during the
        whole connection is free of secrets."""
        with self.assertLogs(level="DEBUG") as logs, loggers_at_debug("odoo", "werkzeug"):
            self.connect_through_webview()
        secrets = self.clear_secrets()
        messages = [record.getMessage() for record in logs.records]
        self.assertTrue(any("Powens request" in message for message in messages),
                        "the Powens client's debug records were captured")
        self.assertTrue(any("auth/init" in message for message in messages), "the token was created in the flow")
        for name, clear in secrets.items():
            with self.subTest(secret=name):
                self.assertEqual([message for message in messages if clear in message], [])

    def test_webview_url_carries_a_temporary_code_only(self):
        """The browser gets a one-time code, never the permanent token nor the client secret."""
        url = self.start_webview(self.bank)
        secrets = self.clear_secrets()
        query = parse_qs(urlsplit(url).query)
        self.assertTrue(query["code"][0])
        self.assertNotIn("client_secret", query)
        for name, clear in secrets.items():
            with self.subTest(secret=name):
                self.assertNotIn(clear, url)
        self.assertNotEqual(query["code"][0], secrets["user token"])
