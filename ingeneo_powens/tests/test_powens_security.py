"""Who may do what with Powens: the access matrix of every role against every model, action and
route, the right checked again at the callback, company isolation, and no secret in clear in
the database, the logs, the mails or the URLs after a whole flow; key rotation."""

import contextlib
import json
import logging
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import partial
from unittest.mock import patch
from urllib.parse import parse_qs, urlsplit

from cryptography.fernet import Fernet

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import HttpCase, tagged
from odoo.tools import config

from ..const import CALLBACK_ROUTE, COCKPIT_ROUTE, REQUEST_ROUTE, SETUP_GROUP, WEBHOOK_ROUTE
from ..models.res_company import POWENS_CONTRACT_FIELDS
from ..powens.signature import sign_webhook
from .common import PowensSandboxMixin, WebviewDriver, new_user

ENCRYPTED_COLUMNS = ("powens_client_secret_encrypted", "powens_webhook_secret_encrypted")
# Powens settings of the company a user without the right must not read.
COMPANY_POWENS_FIELDS = (
    "powens_domain",
    "powens_client_id",
    "powens_api_url",
    "powens_webview_url",
    "powens_client_secret",
    "powens_webhook_secret",
    "powens_client_secret_set",
    "powens_webhook_secret_set",
    "powens_user_ids",
    "powens_user_count",
) + ENCRYPTED_COLUMNS
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
        for logger, level in zip(loggers, levels, strict=False):
            logger.setLevel(level)


class PowensSecurityCase(PowensSandboxMixin):
    """Helpers shared by the security tests: banks connected straight through the sandbox's
    control API (no webview needed), wizards opened by a given user, the webview round trip."""

    # A month of history is enough to carry every secret through a retrieval.
    sandbox_args = ("--history-months", "1")

    def open_wizard(self, model, user, **values):
        """A wizard created by ``user`` (its owner) whatever their rights, so that what is
        tested is the action, not the creation."""
        return self.env[model].with_user(user).sudo().create(values).sudo(False)

    def stored_ciphertexts(self):
        """The secret columns of the company as PostgreSQL holds them."""
        self.env.flush_all()
        self.env.cr.execute(f"SELECT {', '.join(ENCRYPTED_COLUMNS)} FROM res_company WHERE id = %s", [self.company.id])
        return self.env.cr.fetchone()

    def callback_path(self, journal, user=None):
        """Start the webview as ``user``, connect at the sandbox, return the callback path."""
        url = self.start_webview(journal, user=user)
        callback = WebviewDriver(self.sandbox.webview_url).connect(url)
        base_url = journal.get_base_url()
        self.assertTrue(callback.startswith(base_url + "/powens/callback?"))
        return callback[len(base_url) :]

    def open_callback(self, path, login):
        self.authenticate(login, login)
        return self.url_open(path, allow_redirects=False)


@tagged("post_install", "-at_install")
class TestPowensRights(PowensSecurityCase, HttpCase):
    """The accounting-setup right guards every Powens action on the server, not only the buttons."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.connected_bank = cls.env["account.journal"].create(
            {"name": "Banque connectée", "type": "bank", "company_id": cls.company.id}
        )
        cls.connection = cls.connect_at_powens(cls.connected_bank)
        cls.portal = new_user(cls.env, login="powens_portal", password="powens_portal", groups="base.group_portal")
        cls.public = cls.env.ref("base.public_user")
        cls.plain_admin = new_user(
            cls.env, login="powens_plain_admin", groups="base.group_system,account.group_account_user"
        )

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
        with self.assertRaises(AccessError):
            self.connection.user_id.with_user(self.setup_user).read(["token_encrypted"])

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
            {"name": "Banque B", "type": "bank", "company_id": cls.company_b.id}
        )
        cls.connection_b = cls.connect_at_powens(cls.bank_b)
        cls.user_both = new_user(
            cls.env,
            login="powens_both",
            password="powens_both",
            groups="base.group_user,account.group_account_user," + SETUP_GROUP,
            company_id=cls.company.id,
            company_ids=[cls.company.id, cls.company_b.id],
        )

    def test_holder_of_both_companies_connects_each_bank_in_its_own_company(self):
        """The same user connects A's and B's banks; each round trip, consent and Powens user
        belongs to the bank's company."""
        for company, journal in ((self.company, self.bank), (self.company_b, self.bank_b)):
            with self.subTest(company=company.name):
                url = self.start_webview(journal.with_company(company), user=self.user_both)
                self.assertTrue(parse_qs(urlsplit(url).query)["code"])
                consent = self.env["powens.consent"].search(
                    [("journal_id", "=", journal.id), ("user_id", "=", self.user_both.id)]
                )
                self.assertEqual(consent.company_id, company)
                state = self.env["powens.webview.state"].search([("consent_id", "=", consent.id)])
                self.assertEqual((state.user_id, state.company_id), (self.user_both, company))
                self.assertEqual(
                    (state.powens_user_id.company_id, state.powens_user_id.journal_id),
                    (company, journal),
                    "each bank has its own Powens user, in its company",
                )

    def test_callback_refuses_a_holder_removed_from_the_bank_company(self):
        """A round trip started in B cannot be finished once the user left B."""
        bank_b2 = self.env["account.journal"].create(
            {"name": "Banque B2", "type": "bank", "company_id": self.company_b.id}
        )
        path = self.callback_path(bank_b2.with_company(self.company_b), user=self.user_both)
        self.user_both.company_ids = [Command.unlink(self.company_b.id)]
        response = self.open_callback(path, "powens_both")
        self.assertEqual(response.status_code, 400)
        self.assertFalse(bank_b2.powens_connection_id, "nothing changed on B's bank")
        self.assertEqual(
            self.env["powens.connection"].search([("company_id", "=", self.company_b.id)]), self.connection_b
        )


@tagged("post_install", "-at_install")
class TestPowensSecretsAtRest(PowensSecurityCase, HttpCase):
    """After a whole connection, the secrets exist only as ciphertext, in the database and
    everywhere else."""

    def bank_user_ciphertext(self):
        return self.env["powens.user"].sudo().search([("journal_id", "=", self.bank.id)]).token_encrypted

    def clear_secrets(self):
        ciphertext = self.bank_user_ciphertext()
        self.assertTrue(ciphertext, "the flow created the bank's Powens user")
        token = self.company._powens_unseal(ciphertext)
        return {
            "client secret": self.sandbox.client_secret,
            "webhook secret": self.sandbox.webhook_secret,
            "user token": token,
        }

    def run_full_flow(self):
        """Everything that handles a secret: the company's Powens user created, a bank connected
        through the webview, retrieved, notified by a signed webhook, and a connection request
        e-mailed (Option 2). Returns every URL the browser or a mail was given."""
        webview_url = self.start_webview(self.bank)
        callback = WebviewDriver(self.sandbox.webview_url).connect(webview_url)
        base_url = self.bank.get_base_url()
        response = self.open_callback(callback[len(base_url) :], "powens_setup")
        self.assertEqual(response.status_code, 303)
        account = self.bank.powens_connection_id.account_ids[:1]
        if not self.bank.powens_account_id:
            self.open_wizard(
                "powens.account.link.wizard", self.setup_user, journal_id=self.bank.id, account_id=account.id
            ).action_link()
        self.sandbox.control("POST", f"/_sandbox/accounts/{account.powens_id}/transactions", {"count": 3})
        self.bank.with_user(self.setup_user).action_powens_sync()
        body = json.dumps(
            {
                "id": account.powens_id,
                "id_user": account.connection_id.user_id.powens_id,
                "id_connection": account.connection_id.powens_id,
                "transactions": [],
            }
        ).encode()
        date = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        path = f"{WEBHOOK_ROUTE}/account_synced"
        delivery = self.url_open(
            path,
            data=body,
            headers={
                "Content-Type": "application/json",
                "BI-Signature-Date": date,
                "BI-Signature": sign_webhook(self.sandbox.webhook_secret, path, date, body),
            },
        )
        self.assertEqual(delivery.status_code, 200)
        invited = new_user(
            self.env, login="powens_secret_invited", groups="base.group_user", email="invited@example.com"
        )
        other_bank = self.env["account.journal"].create({"name": "Banque à inviter", "type": "bank"})
        request = self.env["powens.connection.request"].with_user(self.setup_user)._send(other_bank, invited)
        return [webview_url, callback, response.headers["Location"], request.sudo().request_url]

    def mail_texts(self):
        self.env.flush_all()
        mails = self.env["mail.mail"].sudo().search([])
        messages = self.env["mail.message"].sudo().search([])
        self.assertTrue(mails, "the request was e-mailed")
        return mails.mapped("body_html") + mails.mapped("subject") + messages.mapped("body")

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
            found += [f"{table}.{column}" for column, hit in zip(columns, self.env.cr.fetchone(), strict=False) if hit]
        return found

    def test_full_flow_stores_only_ciphertext(self):
        """The three secret columns hold Fernet ciphertext of the right values, and no text
        column of any table holds a secret in clear."""
        self.run_full_flow()
        secrets = self.clear_secrets()
        box = self.company._powens_secret_box()
        ciphertexts = (*self.stored_ciphertexts(), self.bank_user_ciphertext())
        for column, ciphertext, clear in zip(
            (*ENCRYPTED_COLUMNS, "powens_user.token_encrypted"), ciphertexts, secrets.values(), strict=False
        ):
            with self.subTest(column=column):
                self.assertTrue(ciphertext and ciphertext.startswith("gAAAAA"), "Fernet token")
                self.assertEqual(box.decrypt(ciphertext), clear)
        self.assertIn(
            "res_company.powens_client_secret_encrypted",
            self.columns_holding(self.company.sudo().powens_client_secret_encrypted),
            "the scan reads res_company",
        )
        for name, clear in secrets.items():
            with self.subTest(secret=name):
                self.assertEqual(self.columns_holding(clear), [])

    def test_full_flow_logs_no_secret(self):
        """Every record logged (DEBUG included, Powens client and HTTP server alike) during the
        whole flow is free of secrets."""
        with self.assertLogs(level="DEBUG") as logs, loggers_at_debug("odoo", "werkzeug"):
            self.run_full_flow()
        secrets = self.clear_secrets()
        messages = [record.getMessage() for record in logs.records]
        self.assertTrue(
            any("Powens request" in message for message in messages), "the Powens client's debug records were captured"
        )
        self.assertTrue(any("auth/init" in message for message in messages), "the token was created in the flow")
        for name, clear in secrets.items():
            with self.subTest(secret=name):
                self.assertEqual([message for message in messages if clear in message], [])

    def test_full_flow_mails_and_urls_carry_no_secret(self):
        """Neither the mails and messages nor any URL given to a browser holds a secret."""
        urls = self.run_full_flow()
        texts = self.mail_texts() + urls
        for name, clear in self.clear_secrets().items():
            with self.subTest(secret=name):
                self.assertEqual([text for text in texts if text and clear in text], [])

    def test_key_rotation_after_a_full_flow_loses_nothing(self):
        """A new key before the old one, the secrets encrypted again: the new key alone then
        reads every secret, and the bank is retrieved as before."""
        self.run_full_flow()
        secrets, old_key = self.clear_secrets(), config.get("powens_encryption_key")
        new_key = Fernet.generate_key().decode()
        with patch.dict(config._runtime_options, {"powens_encryption_key": f"{new_key},{old_key}"}):
            self.company._powens_rotate_secrets()
        self.company.invalidate_recordset()
        with patch.dict(config._runtime_options, {"powens_encryption_key": new_key}):
            self.assertEqual(self.clear_secrets(), secrets)
            action = self.bank.with_user(self.setup_user).action_powens_sync()
            self.assertEqual(action["params"]["type"], "info", action["params"]["message"])

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


# --- The access matrix ------------------------------------------------------------------------
# Who may do what, written down once and checked against the server. One row per model, action
# and route of the add-on, found by introspection (its models, the fields it adds to others, the
# `action_*` methods its classes define, the routes of its controller): a new one without a row
# here fails the test. A cell is a pair: in company A (the role's own; the administrator works
# in A and B) and on company B's records. A role a row does not name may do nothing there.
ROLES = ("public", "portal", "invited", "accountant", "admin_without_right", "admin", "holder")
# The Powens contract fields of the company: same groups as the other settings, but written by
# system administrators only, so a row of their own.
CONTRACT_ROW = f"res.company contract fields [{SETUP_GROUP}]"

# A wizard every internal user may open (on one they created).
INTERNAL_WIZARD = dict.fromkeys(("invited", "accountant", "admin_without_right", "admin", "holder"), ("rwc", "rwc"))
# model -> role -> (operations in A, in B): r read, w write, c create, u unlink. For the models
# the add-on inherits: reading the fields it adds and writing the editable ones, one row per
# `groups` of those fields. Wizards (transient) are tried on one the role created itself.
MODEL_MATRIX = {
    "account.bank.statement.line fields": {
        "accountant": ("r", ""),
        "admin_without_right": ("r", ""),
        "admin": ("r", "r"),
        "holder": ("r", ""),
    },
    "account.journal fields": {"admin": ("r", "r"), "holder": ("r", "")},
    # The bank's live balance, for those who may read its Powens account, and its history
    # start, editable by whoever may edit the journal (accounting administrators); the holder
    # sets the company's default before linking.
    f"account.journal fields [{SETUP_GROUP}]": {"admin": ("rw", "rw"), "holder": ("r", "")},
    # The Powens account, connection and status of a bank: set by the add-on's flows only,
    # written directly by nobody, not even the administrator.
    "account.journal fields set by the add-on only": {},
    "account.referential.bank.wizard": {"admin": ("rwc", "rwc"), "holder": ("rwc", "rwc")},
    "powens.account": {"admin": ("r", "r"), "holder": ("r", "")},
    # The bulk actions' dialog is any internal user's; each bank is judged when it runs.
    "powens.bulk.action": INTERNAL_WIZARD,
    "powens.bulk.action.company": INTERNAL_WIZARD,
    "powens.bulk.action.result": INTERNAL_WIZARD,
    "powens.account.add.banks.wizard": {"admin": ("rwc", "rwc"), "holder": ("rwc", "rwc")},
    "powens.account.link.wizard": {"admin": ("rwc", "rwc"), "holder": ("rwc", "rwc")},
    "powens.connection": {"admin": ("r", "r"), "holder": ("r", "")},
    "powens.connection.request": {"invited": ("r", ""), "admin": ("r", "r"), "holder": ("r", "")},
    "powens.connector.search": {"admin": ("rwc", "rwc"), "holder": ("rwc", "rwc")},
    "powens.connector.search.result": {"admin": ("rwcu", "rwcu"), "holder": ("rwcu", "rwcu")},
    "powens.consent": {"admin": ("r", "r"), "holder": ("r", "")},
    "powens.consent.wizard": {"admin": ("rwc", "rwc"), "holder": ("rwc", "rwc")},
    "powens.pending.transaction": {
        "accountant": ("r", ""),
        "admin_without_right": ("r", ""),
        "admin": ("r", "r"),
        "holder": ("r", ""),
    },
    "powens.refused.transaction": {
        "accountant": ("r", ""),
        "admin_without_right": ("r", ""),
        "admin": ("r", "r"),
        "holder": ("r", ""),
    },
    "powens.sync.log": {"admin": ("r", "r"), "holder": ("r", "")},
    "powens.user": {"admin": ("r", "r"), "holder": ("r", "")},
    # The database's contract: holders read it, system administrators write it (issue 17).
    "powens.contract": {"admin_without_right": ("rw", "rw"), "admin": ("rw", "rw"), "holder": ("r", "r")},
    "powens.webhook.event": {"admin": ("r", "r"), "holder": ("r", "")},
    "powens.webview.state": {"admin_without_right": ("r", ""), "admin": ("r", "r")},
    "res.company fields": {
        "accountant": ("r", ""),
        "admin_without_right": ("r", ""),
        "admin": ("rw", "rw"),
        "holder": ("r", ""),
    },
    # The ciphertexts: a system administrator's, with or without the right, like the whole company.
    "res.company fields [base.group_system]": {"admin_without_right": ("rw", ""), "admin": ("rw", "rw")},
    f"res.company fields [{SETUP_GROUP}]": {"admin": ("rw", "rw"), "holder": ("rw", "")},
    # The Powens contract: holders read it, only system administrators write it (issue 13).
    CONTRACT_ROW: {"admin": ("rw", "rw"), "holder": ("r", "")},
    # The weekly digest's choice: in the user's own preferences (the invited user's record in A),
    # read as the rest of a user, written by administrators too.
    "res.users fields": {
        "invited": ("rw", ""),
        "accountant": ("r", ""),
        "admin_without_right": ("rw", ""),
        "admin": ("rw", "rw"),
        "holder": ("r", ""),
    },
    # The Settings app is the administrators'; holders have the POWENS settings form.
    f"res.config.settings fields [{SETUP_GROUP}]": {"admin": ("rw", "rw")},
}

# Who configures Powens: the holder in their company, the administrator (who holds the right
# through accounting administration) in both.
SETUP = {"admin": (True, True), "holder": (True, False)}
# "model.action" -> role -> (allowed in A, in B).
ACTION_MATRIX = {
    "account.journal.action_powens_add_other_banks": SETUP,
    "account.journal.action_powens_back_from_webview": SETUP,
    # Opens the cockpit, for whoever reads the bank it is called from (the menu calls it on
    # none); the cockpit's search applies the companies (test_powens_cockpit).
    "account.journal.action_open_powens_cockpit": {
        "accountant": (True, False),
        "admin_without_right": (True, False),
        "admin": (True, True),
        "holder": (True, False),
    },
    "account.journal.action_powens_choose_account": SETUP,
    "account.journal.action_powens_choose_request_user": SETUP,
    "account.journal.action_powens_connect": SETUP,
    "account.journal.action_powens_create_opening_balance": SETUP,
    "account.journal.action_powens_disconnect": SETUP,
    "account.journal.action_powens_manage": SETUP,
    # Only a list of the lines, which whoever reads the journal reads anyway.
    "account.journal.action_powens_open_lines": {
        "accountant": (True, False),
        "admin_without_right": (True, False),
        **SETUP,
    },
    "account.journal.action_powens_reconnect": SETUP,
    "account.journal.action_powens_search_connectors": SETUP,
    "account.journal.action_powens_sync": SETUP,
    "account.referential.bank.wizard.action_save": SETUP,
    "powens.account.add.banks.wizard.action_add_banks": SETUP,
    "powens.account.link.wizard.action_link": SETUP,
    "powens.connection.request.action_cancel": SETUP,
    "powens.connection.request.action_consent": {"invited": (True, False)},
    "powens.connection.request.action_decline": {"invited": (True, False)},
    "powens.connection.request.action_open_webview": {"invited": (True, False)},
    "powens.connection.request.action_resend": SETUP,
    # Allowed: the bank was acted upon; refused: its result says why (the run itself goes on).
    "powens.bulk.action.action_run": SETUP,
    "powens.connector.search.action_search": SETUP,
    "powens.consent.wizard.action_continue": SETUP,
    "res.company.action_add_bank": SETUP,
    "res.company.action_open_powens_settings": SETUP,
    "res.company.action_powens_delete_user": SETUP,
    "res.company.action_powens_test_connection": SETUP,
    # Erases the company's own contract: the contract is a system administrator's (issue 17).
    "res.company.action_powens_use_database_contract": {"admin": (True, True)},
    "res.config.settings.action_powens_test_connection": {"admin": (True, True)},
    "res.config.settings.action_powens_contract_history": {"admin": (True, True)},
    "res.users.action_powens_send_connection_request": SETUP,
}

# route -> role -> (status class in A, in B); the requests are TestPowensAccessMatrix.route_requests.
# The public is sent to the login page (3xx) by the routes that need a user; a session gives
# nothing on the webhooks, where only the signature counts.
WEBHOOK_STATUSES = dict.fromkeys(ROLES, ("4xx", "2xx"))
ROUTE_MATRIX = {
    CALLBACK_ROUTE: {
        "public": ("3xx", "3xx"),
        "portal": ("4xx", "4xx"),
        "invited": ("4xx", "4xx"),
        "accountant": ("4xx", "4xx"),
        "admin_without_right": ("4xx", "4xx"),
        "admin": ("4xx", "3xx"),
        "holder": ("3xx", "4xx"),
    },
    f"{REQUEST_ROUTE}/<int:request_id>": {
        "public": ("3xx", "3xx"),
        "portal": ("4xx", "4xx"),
        "invited": ("3xx", "4xx"),
        "accountant": ("4xx", "4xx"),
        "admin_without_right": ("4xx", "4xx"),
        "admin": ("3xx", "3xx"),
        "holder": ("3xx", "4xx"),
    },
    WEBHOOK_ROUTE: WEBHOOK_STATUSES,
    f"{WEBHOOK_ROUTE}/<string:event>": WEBHOOK_STATUSES,
    # Ticks the user's own companies in the switcher and sends them to the cockpit, whose list
    # applies the record rules; another company's id is ignored (test_powens_cockpit).
    COCKPIT_ROUTE: dict.fromkeys(ROLES, ("3xx", "3xx")),
}
EMPTY = {"MODEL_MATRIX": ("", ""), "ACTION_MATRIX": (False, False)}


class _Undo(Exception):
    """Raised to roll a savepoint back after an attempt."""


@tagged("post_install", "-at_install")
class TestPowensAccessMatrix(PowensSecurityCase, HttpCase):
    """Every role against every model, action and route of the add-on, in its own company and
    in another one; the expected outcome is the literal matrix above."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_b = cls.env["res.company"].create({"name": "INGENEO Filiale B"})
        cls.env["account.chart.template"].try_loading("generic_coa", cls.company_b, install_demo=False)
        cls.configure_powens(cls.company_b)
        cls.companies = {"A": cls.company, "B": cls.company_b}
        both = {"company_id": cls.company.id, "company_ids": [cls.company.id, cls.company_b.id]}
        cls.users = {
            "admin": new_user(
                cls.env,
                login="matrix_admin",
                password="matrix_admin",
                groups="base.group_system,account.group_account_manager",
                **both,
            ),
            "holder": cls.setup_user,
            "admin_without_right": new_user(
                cls.env,
                login="matrix_plain_admin",
                password="matrix_plain_admin",
                groups="base.group_system,account.group_account_user",
            ),
            "accountant": cls.accountant,
            "invited": new_user(
                cls.env,
                login="matrix_invited",
                password="matrix_invited",
                groups="base.group_user",
                email="invited@example.com",
            ),
            "portal": new_user(cls.env, login="matrix_portal", password="matrix_portal", groups="base.group_portal"),
            "public": cls.env.ref("base.public_user"),
        }
        invited_b = new_user(
            cls.env,
            login="matrix_invited_b",
            groups="base.group_user",
            company_id=cls.company_b.id,
            company_ids=[cls.company_b.id],
        )
        cls.records = {
            key: cls.company_fixture(company, invited)
            for (key, company), invited in zip(cls.companies.items(), (cls.users["invited"], invited_b), strict=False)
        }

    @classmethod
    def company_fixture(cls, company, invited):
        """One record of each of the add-on's models in ``company``, as the flows make them."""
        admin = cls.users["admin"]
        env = cls.env(context=dict(cls.env.context, allowed_company_ids=[company.id]))
        journal = env["account.journal"].create(
            {"name": f"Banque {company.name}", "type": "bank", "company_id": company.id}
        )
        connection = cls.connect_at_powens(journal)
        to_invite = env["account.journal"].create(
            {"name": f"Banque à connecter {company.name}", "type": "bank", "company_id": company.id}
        )
        request = env["powens.connection.request"].with_user(admin)._send(to_invite, invited).sudo()
        env["powens.webview.state"].with_user(admin)._issue(journal, "connect", connection.user_id)
        env["powens.sync.log"]._record(journal, "manual", fields.Datetime.now(), 0.1, {})
        env["powens.pending.transaction"].sudo().create({"journal_id": journal.id, "powens_transaction_id": "p1"})
        env["powens.refused.transaction"].sudo().create(
            {
                "journal_id": journal.id,
                "powens_transaction_id": "r1",
                "reason": "value is not a finite amount",
                "refused_at": fields.Datetime.now(),
            }
        )
        env["powens.webhook.event"].sudo().create(
            {"company_id": company.id, "event_type": "CONNECTION_SYNCED", "received_at": fields.Datetime.now()}
        )
        line = (
            env["account.bank.statement.line"]
            .sudo()
            .create({"journal_id": journal.id, "amount": 1.0, "payment_ref": "m", "powens_transaction_id": "t1"})
        )
        records = {
            model: env[model].sudo().search([("company_id", "=", company.id)], limit=1)
            for model in (
                "powens.connection",
                "powens.account",
                "powens.consent",
                "powens.connection.request",
                "powens.pending.transaction",
                "powens.refused.transaction",
                "powens.sync.log",
                "powens.webhook.event",
                "powens.webview.state",
                "powens.user",
            )
        }
        records.update(
            {
                "account.journal": journal,
                "account.bank.statement.line": line,
                "res.company": company,
                # One for the database: the same record seen from either company.
                "powens.contract": env["powens.contract"]._powens_database(),
                "request_journal": to_invite,
                "request": request,
                "invited": invited,
                "res.users": invited,
            }
        )
        return {key: record.with_env(cls.env) for key, record in records.items()}

    # --- introspection ----------------------------------------------------------------------

    def addon_classes(self, model_name):
        return [
            cls for cls in type(self.env[model_name]).mro()[1:] if getattr(cls, "_module", None) == "ingeneo_powens"
        ]

    def addon_models(self):
        """The add-on's own models, and the models it extends, by name; not its abstract
        models (``powens.retrieval``): without a table they hold no record to access, and
        their methods, all private, are out of RPC's reach."""
        own, inherited = [], []
        for name in self.registry:
            if not self.addon_classes(name) or self.env[name]._abstract:
                continue
            (own if self.env[name]._original_module == "ingeneo_powens" else inherited).append(name)
        return sorted(own), sorted(inherited)

    def added_fields_by_groups(self, model_name):
        """The fields the add-on adds to ``model_name``, grouped by their ``groups``."""
        names = {
            name
            for cls in self.addon_classes(model_name)
            for name, value in vars(cls).items()
            if isinstance(value, fields.Field)
        }
        by_groups = {}
        for name in sorted(names):
            field = self.env[model_name]._fields[name]
            key = f"{model_name} fields [{field.groups}]" if field.groups else f"{model_name} fields"
            if model_name == "res.company" and name in POWENS_CONTRACT_FIELDS:
                key = CONTRACT_ROW
            by_groups.setdefault(key, []).append(field)
        return by_groups

    def flow_fields(self, model_name):
        """The stored fields of ``model_name`` that only the add-on's flows set, when the
        add-on guards some there (``_powens_flow_fields``)."""
        model = self.env[model_name]
        if not hasattr(model, "_powens_flow_fields"):
            return []
        return [model._fields[name] for name in sorted(model._powens_flow_fields()) if model._fields[name].store]

    def addon_actions(self):
        """Every public `action_*` method the add-on's classes define, as "model.method"."""
        return sorted(
            {
                f"{name}.{method}"
                for name in self.registry
                for cls in self.addon_classes(name)
                for method in vars(cls)
                if method.startswith("action_")
            }
        )

    def addon_routes(self):
        from ..controllers.main import PowensController

        return sorted(
            path
            for member in vars(PowensController).values()
            for path in getattr(member, "original_routing", {}).get("routes", [])
        )

    # --- attempts ---------------------------------------------------------------------------

    def attempt(self, run):
        """True when ``run`` went through the access checks (a business refusal, UserError,
        comes after them), False on AccessError; everything it did is rolled back."""
        outcome = None
        with contextlib.suppress(_Undo), self.env.cr.savepoint():
            try:
                run()
                outcome = True
            except AccessError:  # a UserError too: first
                outcome = False
            except UserError:
                outcome = True
            raise _Undo
        self.env.invalidate_all()
        return outcome

    def model_operations(self, model_name, user, key):
        """The operations ``user`` may do on ``model_name`` in company ``key``."""
        ops = ""
        if self.env[model_name].is_transient():
            # A wizard is its creator's alone: tried on one the user created in that company.
            try:
                record = self.open_wizard(model_name, user, **self.wizard_values(model_name, key))
            except AccessError:
                return ops
        else:
            record = self.records[key][model_name].with_user(user)
        for op in ("read", "write", "create", "unlink"):
            if record.has_access(op):
                ops += "rwcu"[["read", "write", "create", "unlink"].index(op)]
        return ops

    def field_operations(self, model_name, field_list, user, key):
        """Read the added fields; write those the interface may write (not readonly), with
        their own values: a write that changes nothing still goes through every check."""
        record = self.records[key].get(model_name) or self.env[model_name].sudo().create({})
        mine = record.with_user(user).with_company(self.companies[key])
        ops = "r" if self.attempt(lambda: mine.read([field.name for field in field_list])) else ""
        editable = [field.name for field in field_list if not field.readonly and (field.store or field.inverse)]
        values = record._convert_to_write({name: record[name] for name in editable})
        return ops + ("w" if editable and self.attempt(lambda: mine.write(values)) else "")

    def flow_field_operations(self, model_name, field_list, user, key):
        """Write the fields only the add-on's flows set, with their own values, and create a
        record with them (a copy): "w" and "c" when the server let it through."""
        record = self.records[key][model_name]
        mine = record.with_user(user).with_company(self.companies[key])
        values = record._convert_to_write({field.name: record[field.name] for field in field_list})
        ops = "w" if self.attempt(lambda: mine.write(values)) else ""
        return ops + ("c" if self.attempt(lambda: mine.copy(values)) else "")

    def wizard_values(self, model_name, key):
        records = self.records[key]
        journal, company = records["account.journal"], records["res.company"]
        return {
            "powens.consent.wizard": {"journal_id": journal.id, "accepted": True},
            "powens.account.link.wizard": {"journal_id": journal.id, "account_id": records["powens.account"].id},
            "powens.account.add.banks.wizard": {"journal_id": journal.id},
            "powens.connector.search": {"company_id": company.id, "search_text": "banque"},
            "powens.connector.search.result": {
                "search_id": self.env["powens.connector.search"].create({"company_id": company.id}).id
            },
            "account.referential.bank.wizard": {"company_id": company.id, "name": "Banque ajoutée"},
            "powens.bulk.action": {"action": "sync"},
            "powens.bulk.action.company": {
                "wizard_id": self.env["powens.bulk.action"].create({"action": "send_request"}).id,
                "company_id": company.id,
            },
            "powens.bulk.action.result": {
                "wizard_id": self.env["powens.bulk.action"].create({"action": "sync"}).id,
                "outcome": "done",
            },
            "res.config.settings": {},
        }[model_name]

    def action_runs(self):
        """ "model.action" -> run(user, key): how each action is called, as the interface does."""

        def on(model_key, method, context=None, prepare=None):
            def run(user, key):
                record = self.records[key][model_key]
                if prepare:
                    prepare(self.records[key])
                getattr(record.with_user(user).with_context(**(context or {})), method)()

            return run

        def wizard(model, method):
            return lambda user, key: getattr(self.open_wizard(model, user, **self.wizard_values(model, key)), method)()

        def send_request(user, key):
            records = self.records[key]
            records["invited"].with_user(user).with_context(
                powens_request_journal_id=records["request_journal"].id
            ).action_powens_send_connection_request()

        def bulk_send_request(user, key):
            """The bulk connection request on the company's bank to invite: allowed when sent."""
            records = self.records[key]
            dialog = self.open_wizard(
                "powens.bulk.action",
                user,
                action="send_request",
                journal_ids=[Command.set(records["request_journal"].ids)],
                company_line_ids=[
                    Command.create({"company_id": self.companies[key].id, "user_id": records["invited"].id})
                ],
            )
            dialog.action_run()
            result = dialog.sudo().result_ids
            if result.outcome != "done":
                raise AccessError(result.message)

        def settings(method):
            def run(user, key):
                settings = self.env["res.config.settings"].with_user(user).with_company(self.companies[key])
                getattr(settings.create({}), method)()

            return run

        def consented(records):
            records["request"].with_user(records["invited"]).action_consent()

        def forgotten_token(records):
            # Access is what is checked: the company's user is deleted at Powens by its own tests.
            records["res.company"].sudo().powens_user_ids.token_encrypted = False

        journal = {
            f"account.journal.{name}": on("account.journal", name)
            for name in (
                "action_powens_connect",
                "action_powens_create_opening_balance",
                "action_powens_reconnect",
                "action_powens_manage",
                "action_powens_choose_request_user",
                "action_powens_choose_account",
                "action_powens_add_other_banks",
                "action_powens_back_from_webview",
                "action_powens_search_connectors",
                "action_powens_open_lines",
                "action_powens_sync",
                "action_powens_disconnect",
                "action_open_powens_cockpit",
            )
        }
        return {
            **journal,
            "res.company.action_open_powens_settings": on("res.company", "action_open_powens_settings"),
            "res.company.action_powens_test_connection": on("res.company", "action_powens_test_connection"),
            "res.company.action_add_bank": on("res.company", "action_add_bank"),
            "res.company.action_powens_use_database_contract": on("res.company", "action_powens_use_database_contract"),
            "res.company.action_powens_delete_user": on(
                "res.company", "action_powens_delete_user", prepare=forgotten_token
            ),
            "res.config.settings.action_powens_test_connection": settings("action_powens_test_connection"),
            "res.config.settings.action_powens_contract_history": settings("action_powens_contract_history"),
            "res.users.action_powens_send_connection_request": send_request,
            "powens.connection.request.action_resend": on("request", "action_resend"),
            "powens.bulk.action.action_run": bulk_send_request,
            "powens.connection.request.action_cancel": on("request", "action_cancel"),
            "powens.connection.request.action_consent": on("request", "action_consent"),
            "powens.connection.request.action_open_webview": on("request", "action_open_webview", prepare=consented),
            "powens.connection.request.action_decline": on("request", "action_decline"),
            "powens.consent.wizard.action_continue": wizard("powens.consent.wizard", "action_continue"),
            "powens.account.link.wizard.action_link": wizard("powens.account.link.wizard", "action_link"),
            "powens.account.add.banks.wizard.action_add_banks": wizard(
                "powens.account.add.banks.wizard", "action_add_banks"
            ),
            "powens.connector.search.action_search": wizard("powens.connector.search", "action_search"),
            "account.referential.bank.wizard.action_save": wizard("account.referential.bank.wizard", "action_save"),
        }

    def route_requests(self):
        """route -> request(role, key) returning the HTTP status:
        - the callback of a genuine round trip started in that company (by the holder in A, by
          the administrator in B): only its starter may finish it;
        - the link of the connection request of that company's invited user;
        - webhooks: in A unsigned, in B signed for company B; a session adds nothing."""
        callbacks = {
            "A": self.callback_path(self.records["A"]["request_journal"]),
            "B": self.callback_path(
                self.records["B"]["request_journal"].with_company(self.company_b), user=self.users["admin"]
            ),
        }
        deliveries = {
            key: json.dumps({"id": 1, "id_user": self.records[key]["powens.user"].powens_id}).encode()
            for key in self.companies
        }

        def webhook(path):
            def post(key):
                headers = {"Content-Type": "application/json"}
                if key == "B":
                    date = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
                    headers.update(
                        {
                            "BI-Signature-Date": date,
                            "BI-Signature": sign_webhook(self.sandbox.webhook_secret, path, date, deliveries[key]),
                        }
                    )
                return self.url_open(path, data=deliveries[key], headers=headers, allow_redirects=False)

            return post

        return {
            CALLBACK_ROUTE: lambda key: self.url_open(callbacks[key], allow_redirects=False),
            f"{REQUEST_ROUTE}/<int:request_id>": lambda key: self.url_open(
                f"{REQUEST_ROUTE}/{self.records[key]['request'].id}", allow_redirects=False
            ),
            WEBHOOK_ROUTE: webhook(WEBHOOK_ROUTE),
            f"{WEBHOOK_ROUTE}/<string:event>": webhook(f"{WEBHOOK_ROUTE}/account_categorized"),
            COCKPIT_ROUTE: lambda key: self.url_open(
                f"{COCKPIT_ROUTE}?needing=1&company_id={self.companies[key].id}", allow_redirects=False
            ),
        }

    def login(self, role):
        if role == "public":
            self.authenticate(None, None)
        else:
            self.authenticate(self.users[role].login, self.users[role].login)

    # --- the test ---------------------------------------------------------------------------

    def model_rows(self):
        """row -> how to try it: the operations of a user in a company."""
        own, inherited = self.addon_models()
        rows = {name: partial(self.model_operations, name) for name in own}
        for name in inherited:
            for row, field_list in self.added_fields_by_groups(name).items():
                rows[row] = partial(self.field_operations, name, field_list)
            if flow_fields := self.flow_fields(name):
                rows[f"{name} fields set by the add-on only"] = partial(self.flow_field_operations, name, flow_fields)
        return rows

    def test_the_matrix_covers_every_model_action_and_route_of_the_addon(self):
        actions, routes = self.addon_actions(), self.addon_routes()
        self.assertEqual(sorted(self.action_runs()), actions, "every action is called by the matrix")
        self.assertEqual(sorted(self.route_requests()), routes, "every route is requested by the matrix")
        tried = {
            "MODEL_MATRIX": (MODEL_MATRIX, self.model_rows()),
            "ACTION_MATRIX": (ACTION_MATRIX, actions),
            "ROUTE_MATRIX": (ROUTE_MATRIX, routes),
        }
        for matrix, (rows, tried_rows) in tried.items():
            with self.subTest(matrix=matrix):
                self.assertLessEqual(set(rows), set(tried_rows), "a row of the matrix matches nothing")

    def assert_role_gets_its_matrix(self, role):
        """Everything ``role`` may do, in its own company (A) and in another (B), tried one by one
        and compared with the literal matrices above, a cell at a time."""
        user = self.users[role]
        runs, requests = self.action_runs(), self.route_requests()
        observed = {
            "MODEL_MATRIX": {
                row: tuple(operations(user, key) for key in "AB") for row, operations in self.model_rows().items()
            },
            "ACTION_MATRIX": {
                action: tuple(self.attempt(partial(runs[action], user, key)) for key in "AB") for action in sorted(runs)
            },
        }
        self.login(role)
        observed["ROUTE_MATRIX"] = {
            route: tuple(f"{requests[route](key).status_code // 100}xx" for key in "AB") for route in sorted(requests)
        }
        expected = {"MODEL_MATRIX": MODEL_MATRIX, "ACTION_MATRIX": ACTION_MATRIX, "ROUTE_MATRIX": ROUTE_MATRIX}
        for matrix, cells in observed.items():
            for row, outcome in cells.items():
                with self.subTest(matrix=matrix, row=row):
                    self.assertIn(row, expected[matrix], "no row in the matrix")
                    self.assertEqual(outcome, expected[matrix][row].get(role, EMPTY.get(matrix)))

    # One test per role: spread over the test workers, and a failure names its role.
    def test_the_public_visitor_gets_its_matrix(self):
        self.assert_role_gets_its_matrix("public")

    def test_the_portal_user_gets_its_matrix(self):
        self.assert_role_gets_its_matrix("portal")

    def test_the_invited_user_gets_its_matrix(self):
        self.assert_role_gets_its_matrix("invited")

    def test_the_accountant_gets_its_matrix(self):
        self.assert_role_gets_its_matrix("accountant")

    def test_the_administrator_without_the_right_gets_its_matrix(self):
        self.assert_role_gets_its_matrix("admin_without_right")

    def test_the_administrator_with_the_right_gets_its_matrix(self):
        self.assert_role_gets_its_matrix("admin")

    def test_the_holder_of_the_right_gets_its_matrix(self):
        self.assert_role_gets_its_matrix("holder")
