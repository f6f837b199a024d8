"""Issue 13 §1, performed as an attacker would: the holder of the right who points the Powens
contract at a host of theirs to receive the company's token and client secret, an administrator
who types another host, a URL written in the database directly. The contract is a system
administrator's, Powens' own hosts (or the configured ones) are the only destinations, a new
origin forgets the token, and every change is in the company's chatter, secrets excepted."""

import json
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from unittest.mock import patch

from lxml import etree

from odoo.exceptions import AccessError, UserError
from odoo.tests import HttpCase, tagged
from odoo.tests.common import JsonRpcException
from odoo.tools import config

from ..const import SETUP_GROUP
from .common import PowensSandboxMixin, new_user

CONTRACT_COLUMNS = (
    "powens_domain",
    "powens_client_id",
    "powens_api_url",
    "powens_webview_url",
    "powens_client_secret_encrypted",
    "powens_webhook_secret_encrypted",
)
CLIENT_SECRET = "client-secret-typed-by-the-admin"
WEBHOOK_SECRET = "webhook-secret-typed-by-the-admin"


class RecordingHost:
    """A host of the attacker's, on 127.0.0.1: answers every request and keeps what it got."""

    def __init__(self):
        received = self.received = []

        class Handler(BaseHTTPRequestHandler):
            def answer(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                received.append(
                    {
                        "method": self.command,
                        "path": self.path,
                        "authorization": self.headers.get("Authorization"),
                        "body": body,
                    }
                )
                payload = json.dumps({"auth_token": "attacker-token", "id_user": 1}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = answer

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.port = self.server.server_port

    def url(self, host="127.0.0.1"):
        return f"http://{host}:{self.port}"

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@tagged("post_install", "-at_install")
class TestPowensContractAttacks(PowensSandboxMixin, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.admin = new_user(
            cls.env,
            login="contract_admin",
            password="contract_admin",
            groups="base.group_system,account.group_account_manager",
            company_id=cls.company.id,
            company_ids=[cls.company.id],
        )
        cls.attacker = RecordingHost()
        cls.addClassCleanup(cls.attacker.stop)
        cls.company._powens_create_user(cls.bank)  # the bank's Powens user: a permanent token to steal

    def setUp(self):
        super().setUp()
        self.attacker.received.clear()

    # --- helpers -------------------------------------------------------------------------------

    def stored_contract(self):
        """The contract as PostgreSQL holds it."""
        self.env.flush_all()
        self.env.cr.execute(f"SELECT {', '.join(CONTRACT_COLUMNS)} FROM res_company WHERE id = %s", [self.company.id])
        return dict(zip(CONTRACT_COLUMNS, self.env.cr.fetchone(), strict=False))

    @contextmanager
    def allowed_hosts(self, value):
        """Run with ``powens_allowed_hosts`` set to ``value`` in the server configuration."""
        with patch.dict(config._runtime_options, {"powens_allowed_hosts": value}):
            yield

    @contextmanager
    def refused(self, exception, message):
        """Like assertRaises (whose savepoint undoes the attempt), the error's text matching."""
        with self.assertRaises(exception) as caught:
            yield
        self.assertRegex(str(caught.exception), message)

    def write_in_database(self, **values):
        """What a database restored from elsewhere, or an SQL console, leaves behind."""
        self.env.flush_all()
        columns = ", ".join(f"{name} = %s" for name in values)
        self.env.cr.execute(f"UPDATE res_company SET {columns} WHERE id = %s", [*values.values(), self.company.id])
        self.env.invalidate_all()

    def powens_paths_called(self):
        return [call["path"] for call in self.sandbox.control("GET", "/_sandbox/calls")]

    def settings_notes(self):
        return self.company.message_ids.filtered(lambda message: "Powens settings changed" in str(message.body))

    # --- the holder ----------------------------------------------------------------------------

    def test_holder_cannot_change_any_part_of_the_contract(self):
        """The issue's reproduction: the holder points the API at their host, then tests the
        connection to receive the Bearer token. Every part of the contract is refused to them,
        even mixed with the settings they keep, and nothing leaves for their host."""
        before = self.stored_contract()
        holder_company = self.company.with_user(self.setup_user)
        attempts = {
            "powens_api_url": self.attacker.url() + "/2.0",
            "powens_webview_url": self.attacker.url(),
            "powens_domain": "attacker",
            "powens_client_id": "666",
            "powens_client_secret": "holder-chosen-client-secret",
            "powens_webhook_secret": "holder-chosen-webhook-secret",
        }
        for field_name, value in attempts.items():
            for vals in ({field_name: value}, {field_name: value, "powens_history_start": "2020-01-01"}):
                with self.subTest(vals=vals), self.assertRaises(AccessError):
                    holder_company.write(vals)
        self.assertEqual(self.stored_contract(), before)
        holder_company.action_powens_test_connection()
        self.assertEqual(self.attacker.received, [], "nothing reached the holder's host")

    def test_holder_keeps_everything_but_the_contract(self):
        """Seeing whether the contract is set, testing it, the retrieval settings."""
        holder_company = self.company.with_user(self.setup_user)
        values = holder_company.read(
            [
                "powens_domain",
                "powens_client_id",
                "powens_api_url",
                "powens_client_secret_set",
                "powens_webhook_secret_set",
            ]
        )[0]
        self.assertEqual(values["powens_client_id"], self.sandbox.client_id)
        self.assertTrue(values["powens_client_secret_set"] and values["powens_webhook_secret_set"])
        holder_company.write({"powens_history_start": "2025-01-01", "powens_request_validity_days": 3})
        self.assertEqual(self.company.powens_request_validity_days, 3)
        action = holder_company.action_powens_test_connection()
        self.assertEqual(action["params"]["type"], "success")

    def test_holder_through_the_powens_settings_form(self):
        """POWENS > Settings shows the holder the contract read-only and says who changes it;
        the form's own save call, sent by hand with the contract in it, is refused."""
        view = self.env.ref("ingeneo_powens.res_company_view_form_powens_settings")
        for user, is_admin in ((self.setup_user, False), (self.admin, True)):
            with self.subTest(user=user.login):
                arch = self.company.with_user(user).get_views([(view.id, "form")])["views"]["form"]["arch"]
                self.assertEqual("Only a system administrator changes the Powens contract" in arch, not is_admin)
                form = etree.fromstring(arch)
                self.assertEqual(bool(form.xpath("//field[@name='powens_client_secret']")), is_admin)
                for field_name in ("powens_domain", "powens_client_id", "powens_api_url", "powens_webview_url"):
                    self.assertEqual(
                        [node.get("readonly") for node in form.xpath(f"//field[@name='{field_name}']")],
                        [None] if is_admin else ["1"],
                        field_name,
                    )
        before = self.stored_contract()
        self.authenticate("powens_setup", "powens_setup")
        action = self.make_jsonrpc_request(
            "/web/dataset/call_kw/res.company/action_open_powens_settings",
            {
                "model": "res.company",
                "method": "action_open_powens_settings",
                "args": [[self.company.id]],
                "kwargs": {},
            },
        )
        self.assertEqual((action["res_model"], action["res_id"]), ("res.company", self.company.id))
        for values in ({"powens_api_url": self.attacker.url() + "/2.0"}, {"powens_client_secret": "from-the-form"}):
            with self.subTest(values=values), self.refused(JsonRpcException, "AccessError"):
                self.make_jsonrpc_request(
                    "/web/dataset/call_kw/res.company/web_save",
                    {
                        "model": "res.company",
                        "method": "web_save",
                        "args": [[self.company.id], values],
                        "kwargs": {"specification": {"powens_api_url": {}}},
                    },
                )
        self.assertEqual(self.stored_contract(), before)
        saved = self.make_jsonrpc_request(
            "/web/dataset/call_kw/res.company/web_save",
            {
                "model": "res.company",
                "method": "web_save",
                "args": [[self.company.id], {"powens_request_validity_days": 5}],
                "kwargs": {"specification": {"powens_request_validity_days": {}}},
            },
        )
        self.assertEqual(saved[0]["powens_request_validity_days"], 5, "the holder's own settings save")

    def test_editing_companies_is_not_enough_to_change_the_contract(self):
        """An "Access Rights" administrator holding the right (through accounting
        administration) may edit and create companies, but not write a Powens contract."""
        rights_admin = new_user(
            self.env,
            login="contract_rights_admin",
            groups="base.group_erp_manager,account.group_account_manager",
            company_id=self.company.id,
            company_ids=[self.company.id],
        )
        self.assertTrue(rights_admin.has_group(SETUP_GROUP))
        self.assertFalse(rights_admin.has_group("base.group_system"))
        before = self.stored_contract()
        company = self.company.with_user(rights_admin)
        company.write({"powens_history_start": "2025-02-01", "sequence": 7})
        for vals in ({"powens_api_url": self.attacker.url() + "/2.0", "sequence": 8}, {"powens_client_id": "666"}):
            with self.subTest(vals=vals), self.assertRaises(AccessError):
                company.write(vals)
        with self.assertRaises(AccessError):
            self.env["res.company"].with_user(rights_admin).create(
                {"name": "Filiale", "powens_domain": "ingeneo", "powens_api_url": self.attacker.url() + "/2.0"}
            )
        self.assertEqual(self.stored_contract(), before)

    # --- the administrator ----------------------------------------------------------------------

    def test_administrator_cannot_point_the_contract_at_another_host(self):
        """A system administrator changes the contract, but only towards Powens (or a host
        the server configuration allows), whatever the spelling of the other host."""
        before = self.stored_contract()
        admin_company = self.company.with_user(self.admin)
        refused = [
            {"powens_api_url": "https://attacker.example/2.0"},
            {"powens_api_url": "https://ingeneo.biapi.pro@attacker.example/2.0"},
            {"powens_api_url": "https://ingeneo.biapi.pro.attacker.example/2.0"},
            {"powens_api_url": "http://ingeneo.biapi.pro/2.0"},
            {"powens_api_url": "https://ingeneo.biapi.pro./2.0"},
            {"powens_api_url": "https://ingeneo.biapi.pro:8443/2.0"},
            {"powens_api_url": "http://127.0.0.2:8070/2.0"},
            {"powens_webview_url": "https://attacker.example"},
            {"powens_webview_url": "https://webview.powens.com.attacker.example"},
            {"powens_domain": "attacker.example"},
            {"powens_domain": "ingeneo.biapi.pro@attacker.example"},
            {"powens_domain": "ingeneo", "powens_api_url": "https://attacker.example/2.0"},
        ]
        for vals in refused:
            with self.subTest(vals=vals), self.refused(UserError, "is refused"):
                admin_company.write(vals)
        settings = self.env["res.config.settings"].with_user(self.admin)
        with self.refused(UserError, "is refused"):
            settings.create({"powens_api_url": "https://attacker.example/2.0"})
        self.assertEqual(self.stored_contract(), before)
        admin_company.write({"powens_domain": "ingeneo"})
        self.assertEqual(self.company.powens_api_url, "https://ingeneo.biapi.pro/2.0")
        self.assertEqual(self.company.powens_webview_url, "https://webview.powens.com")

    def test_webhook_secret_must_be_a_whole_powens_key(self):
        """A few characters are not the key Powens gives: refused, the stored one kept."""
        before = self.stored_contract()["powens_webhook_secret_encrypted"]
        with self.refused(UserError, "at least 16 characters"):
            self.company.with_user(self.admin).write({"powens_webhook_secret": "short-secret"})
        self.assertEqual(self.stored_contract()["powens_webhook_secret_encrypted"], before)
        self.company.with_user(self.admin).write({"powens_webhook_secret": "sixteen-chars-ok"})
        self.assertNotEqual(self.stored_contract()["powens_webhook_secret_encrypted"], before)

    # --- a URL stored in the database ----------------------------------------------------------

    def test_a_url_written_in_the_database_is_refused_where_requests_leave(self):
        """The check is where the client is built: an API URL written by SQL to a host the
        configuration does not allow sends nothing there, from any Powens action. With the
        host allowed, the same URL does receive the requests (the recorder works)."""
        self.write_in_database(powens_api_url=self.attacker.url() + "/2.0")
        with self.allowed_hosts("localhost"):
            for name, run in {
                "test the connection": self.company.with_user(self.setup_user).action_powens_test_connection,
                "search a bank": lambda: (
                    self.env["powens.connector.search"]
                    .with_user(self.setup_user)
                    .create({"search_text": "banque"})
                    .action_search()
                ),
                "delete the Powens user": self.company.with_user(self.setup_user).action_powens_delete_user,
            }.items():
                with self.subTest(name), self.refused(UserError, "Powens API URL of .* is refused"):
                    run()
        self.assertEqual(self.attacker.received, [])
        with self.allowed_hosts("localhost, 127.0.0.1"), self.assertRaises(UserError):
            self.company.with_user(self.setup_user).action_powens_test_connection()
        self.assertTrue(self.attacker.received, "allowed, the same URL is reached")
        self.assertEqual(
            self.attacker.received[0]["path"].split("?")[0],
            "/2.0/connectors",
            "the first request of the test, which the check keeps from leaving",
        )

    def test_a_webview_url_written_in_the_database_sends_no_browser_there(self):
        """No browser (the holder's or an invited user's) is sent to a webview host the
        configuration does not allow, and no temporary code is even asked of Powens."""
        self.write_in_database(powens_webview_url=self.attacker.url("localhost"))
        self.sandbox.control("DELETE", "/_sandbox/calls")
        with self.allowed_hosts("127.0.0.1"), self.refused(UserError, "Powens webview URL of .* is refused"):
            self.start_webview(self.bank)
        self.assertNotIn("/2.0/auth/token/code", self.powens_paths_called())
        with self.allowed_hosts("127.0.0.1,localhost"):
            self.assertTrue(self.start_webview(self.bank).startswith(self.attacker.url("localhost")))

    # --- the token follows the origin -----------------------------------------------------------

    def test_a_new_domain_or_api_url_forgets_the_token(self):
        """A token is only ever sent to the Powens that issued it: a new domain, or a new API
        URL, forgets the company's Powens users (the chatter says to connect the banks again);
        an unchanged one keeps them."""
        admin_company = self.company.with_user(self.admin)
        Users = self.env["powens.user"].with_context(active_test=False)
        user = Users.search([("journal_id", "=", self.bank.id), ("active", "=", True)])
        token = user.token_encrypted
        admin_company.write({"powens_api_url": self.sandbox.api_url, "powens_client_id": self.sandbox.client_id})
        self.assertEqual((user.active, user.token_encrypted), (True, token), "nothing changed: kept")
        for vals in (
            {"powens_api_url": self.sandbox.api_url.replace("127.0.0.1", "localhost")},
            {"powens_domain": "ingeneo"},
        ):
            with self.subTest(vals=vals):
                user = Users.search(
                    [("journal_id", "=", self.bank.id), ("active", "=", True)]
                ) or self.company._powens_create_user(self.bank)
                self.assertTrue(user.token_encrypted)
                notes = len(
                    self.company.message_ids.filtered(lambda message: "Connect the banks again" in message.body)
                )
                admin_company.write(vals)
                self.assertEqual((user.active, user.token_encrypted), (False, False), "token forgotten")
                self.assertEqual(
                    notes + 1,
                    len(self.company.message_ids.filtered(lambda message: "Connect the banks again" in message.body)),
                )

    # --- the audit trail ----------------------------------------------------------------------

    def test_every_change_of_the_settings_is_in_the_chatter_without_secrets(self):
        """Who, which settings, when: the author and date of a note listing the settings by
        name; the secrets' values appear in no message."""
        notes_before = self.settings_notes()
        self.company.with_user(self.admin).write(
            {
                "powens_client_id": "10000002",
                "powens_client_secret": CLIENT_SECRET,
                "powens_webhook_secret": WEBHOOK_SECRET,
            }
        )
        self.company.with_user(self.setup_user).write({"powens_history_start": "2024-06-01"})
        self.company.with_user(self.setup_user).write({"powens_history_start": "2024-06-01"})
        notes = self.settings_notes() - notes_before
        self.assertEqual(len(notes), 2, "one note per write that changed something")
        by_holder, by_admin = notes.sorted("id", reverse=True)
        self.assertEqual(by_admin.author_id, self.admin.partner_id)
        for label in ("Powens client ID", "Powens client secret", "Powens webhook secret"):
            self.assertIn(label, str(by_admin.body))
        self.assertTrue(by_admin.date)
        self.assertEqual(by_holder.author_id, self.setup_user.partner_id)
        self.assertIn("Retrieve movements from", str(by_holder.body))
        for secret in (CLIENT_SECRET, WEBHOOK_SECRET, self.sandbox.client_secret):
            self.env.flush_all()
            self.env.cr.execute("SELECT count(*) FROM mail_message WHERE body::text LIKE %s", [f"%{secret}%"])
            self.assertEqual(self.env.cr.fetchone()[0], 0, "a secret in a message")
        self.assertTrue(self.admin.has_group(SETUP_GROUP))
