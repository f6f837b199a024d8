"""Issue 13 §2 and §5, performed as an attacker would: the temporary code handed to an invited
user, the callback's query string (connection ids, error text), a bank connected twice, a
refused callback's leftovers at Powens, the request link as an oracle. Real HTTP against the
sandbox's webview and API, and against Odoo's routes."""

import json
from datetime import UTC, datetime
from urllib.parse import urlencode

import requests

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import HttpCase, tagged

from ..const import SETUP_GROUP, WEBHOOK_ROUTE
from ..powens import PowensNotFound
from ..powens.signature import sign_webhook
from .common import PowensSandboxMixin, WebviewDriver, new_user, query_of

RAW_ERROR = "Call +33 6 12 34 56 78 to unlock your account"


@tagged("post_install", "-at_install")
class TestPowensCallbackAttacks(PowensSandboxMixin, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        company = {"company_id": cls.company.id, "company_ids": [cls.company.id]}
        cls.invited = new_user(
            cls.env,
            login="powens_attack_invited",
            password="powens_attack_invited",
            groups="base.group_user",
            email="invited@example.com",
            **company,
        )
        cls.third = new_user(
            cls.env, login="powens_attack_third", password="powens_attack_third", groups="base.group_user", **company
        )
        # Bank B: connected by the holder, its account linked; the target of every attack.
        cls.bank_b = cls.env["account.journal"].create(
            {"name": "Banque B", "type": "bank", "company_id": cls.company.id}
        )
        cls.connection_b = cls.connect_at_powens(cls.bank_b, accounts=2)
        cls.bank_b._powens_link_account(cls.connection_b.account_ids[0])

    # --- helpers ----------------------------------------------------------------------------

    def send_request(self, journal=None):
        return (
            self.env["powens.connection.request"].with_user(self.setup_user)._send(journal or self.bank, self.invited)
        )

    def invited_webview_url(self, connection_request):
        mine = connection_request.with_user(self.invited)
        mine.action_consent()
        return mine.action_open_webview()["url"]

    def open_as(self, path, login):
        self.authenticate(login, login)
        return self.url_open(path, allow_redirects=False)

    def relative(self, url):
        base_url = self.bank.get_base_url()
        self.assertTrue(url.startswith(base_url))
        return url[len(base_url) :]

    def connection_exists_at_powens(self, powens_user, powens_id):
        try:
            powens_user._powens_client().get_connection(powens_id)
        except PowensNotFound:
            return False
        return True

    def assert_deleted_at_powens(self, powens_id):
        calls = [(call["method"], call["path"]) for call in self.sandbox.control("GET", "/_sandbox/calls")]
        self.assertIn(("DELETE", f"/2.0/users/me/connections/{powens_id}"), calls)
        self.assertFalse(self.connection_exists_at_powens(self.bank_user(), powens_id))

    def bank_user(self, journal=None):
        return self.env["powens.user"].search([("journal_id", "=", (journal or self.bank).id)])

    def assert_bank_b_untouched(self):
        self.assertEqual(self.bank_b.powens_connection_id, self.connection_b)
        self.assertEqual(self.bank_b.powens_state, "waiting")
        self.assertTrue(self.connection_exists_at_powens(self.connection_b.user_id, self.connection_b.powens_id))

    # --- §2: one Powens user per bank --------------------------------------------------------

    def test_code_given_to_an_invited_user_shows_no_other_bank_in_the_manage_webview(self):
        """The attack of the audit (F2): the invited user keeps the code of their connect URL
        and opens Powens' manage flow with it instead, then tries to delete bank B."""
        url = self.invited_webview_url(self.send_request())
        manage_url = url.replace("/connect?", "/manage?", 1)
        self.assertNotEqual(manage_url, url)
        driver = WebviewDriver(self.sandbox.webview_url)
        page = driver.open(manage_url)
        self.assertEqual(page.status_code, 200, "the code itself is genuine")
        listed = {form["hidden"].get("connection") for form in driver.forms()} - {None}
        self.assertEqual(listed, set(), "the bank's own Powens user holds nothing yet")
        for account in self.connection_b.account_ids:
            self.assertNotIn(account.iban, page.text)
        # The forms of bank B's connection forged into the session the code opened.
        session = driver.forms()[0]["hidden"]["session"]
        for action in ("delete", "save"):
            requests.post(
                page.url,
                data={"session": session, "action": action, "connection": str(self.connection_b.powens_id)},
                timeout=30,
            )
        self.assert_bank_b_untouched()
        enabled = [item["disabled"] is None for item in self.bank_b._powens_client().list_accounts()]
        self.assertIn(True, enabled, "bank B's account is still enabled at Powens")

    def test_each_bank_connected_gets_a_powens_user_of_its_own(self):
        """The holder connects bank A through the webview: a new Powens user, holding A's
        connection only, distinct from bank B's."""
        callback = WebviewDriver(self.sandbox.webview_url).connect(self.start_webview(self.bank))
        self.assertEqual(self.open_as(self.relative(callback), "powens_setup").status_code, 303)
        user_a, user_b = self.bank_user(), self.bank_user(self.bank_b)
        self.assertTrue(user_a and user_b)
        self.assertNotEqual(user_a.powens_id, user_b.powens_id)
        self.assertEqual(self.bank.powens_connection_id.user_id, user_a)
        self.assertEqual(self.connection_b.user_id, user_b)
        self.assertEqual(
            [item["id"] for item in user_a._powens_client().list_connections()],
            [self.bank.powens_connection_id.powens_id],
            "A's user holds A's connection only",
        )
        self.sandbox.control("DELETE", "/_sandbox/calls")
        self.start_webview(self.bank)
        self.assertEqual(self.bank_user(), user_a, "connecting the bank again keeps its user")
        self.assertNotIn("/2.0/auth/init", [call["path"] for call in self.sandbox.control("GET", "/_sandbox/calls")])

    def test_user_deleted_for_one_bank_disconnects_that_bank_only_and_is_acknowledged_again(self):
        """Powens' USER_DELETED about bank B's user: B only is disconnected. The same notice
        about a user the add-on deleted itself (archived) is still acknowledged, not 403."""
        other = self.env["account.journal"].create({"name": "Banque C", "type": "bank", "company_id": self.company.id})
        connection_c = self.connect_at_powens(other, accounts=1)
        other._powens_link_account(connection_c.account_ids)
        user_b = self.connection_b.user_id
        payload = {"id": user_b.powens_id, "signin": "2025-01-10 16:01:58", "platform": "sharedAccess"}
        for delivery in (1, 2):
            body = json.dumps(dict(payload, id_webhook_data=770000 + delivery)).encode()
            path = f"{WEBHOOK_ROUTE}/user_deleted"
            date = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            response = self.url_open(
                path,
                data=body,
                headers={
                    "Content-Type": "application/json",
                    "BI-Signature-Date": date,
                    "BI-Signature": sign_webhook(self.sandbox.webhook_secret, path, date, body),
                },
            )
            self.assertEqual(response.status_code, 200, response.text)
        self.env.invalidate_all()
        self.assertEqual(self.bank_b.powens_state, "disconnected")
        self.assertEqual(other.powens_state, "waiting", "bank C has its own Powens user")
        self.assertFalse(user_b.active)
        self.assertFalse(user_b.sudo().token_encrypted)

    def test_a_bank_token_is_never_sent_to_another_api_than_the_one_that_issued_it(self):
        """The company now points at another API address (here the same sandbox by another
        name): the bank's token stays home, whatever still holds the old address."""
        self.company.powens_api_url = self.sandbox.api_url.replace("127.0.0.1", "localhost")
        self.sandbox.control("DELETE", "/_sandbox/calls")
        with self.assertRaisesRegex(UserError, "access of this bank was lost"):
            self.bank_b._powens_client()
        self.assertEqual(self.sandbox.control("GET", "/_sandbox/calls"), [], "no request left with the token")

    # --- §5: the callback takes only what its round trip created ----------------------------

    def test_invited_callback_naming_another_banks_connection_is_refused(self):
        """F7: the invited user skips the webview and names bank B's connection."""
        connection_request = self.send_request()
        url = self.invited_webview_url(connection_request)
        state = query_of(url)["state"]
        query = urlencode({"state": state, "connection_id": self.connection_b.powens_id})
        response = self.open_as(f"/powens/callback?{query}", "powens_attack_invited")
        self.assertEqual(response.status_code, 400)
        self.assertFalse(self.bank.powens_connection_id)
        self.assertEqual(connection_request.state, "consented", "not marked connected")
        self.assertFalse(connection_request.consent_id.connection_id)
        self.assert_bank_b_untouched()

    def test_holder_callback_naming_another_banks_connection_is_refused(self):
        """The same with the holder's own round trip for bank A: B's connection is recorded
        already, and held by another Powens user."""
        state = query_of(self.start_webview(self.bank))["state"]
        query = urlencode({"state": state, "connection_id": self.connection_b.powens_id})
        response = self.open_as(f"/powens/callback?{query}", "powens_setup")
        self.assertEqual(response.status_code, 400)
        self.assertFalse(self.bank.powens_connection_id)
        self.assert_bank_b_untouched()

    def test_holder_callback_naming_an_older_connection_of_the_bank_user_is_refused_and_kept(self):
        """A connection the bank's own Powens user held before the state was issued (made by
        an earlier round trip, unknown to Odoo) is not this round trip's: refused, and left at
        Powens (only what the round trip created is ever deleted)."""
        powens_user = self.company._powens_create_user(self.bank)
        test_bank = powens_user._powens_client().list_connectors()[0]
        older = self.sandbox.control(
            "POST",
            f"/_sandbox/users/{powens_user.powens_id}/connections",
            {"connector_uuid": test_bank["uuid"], "login": "alice", "password": "secret", "accounts": 1, "months": 0},
        )
        url = self.start_webview(self.bank)
        callback = WebviewDriver(self.sandbox.webview_url).connect(url)
        query = query_of(callback)
        forged = urlencode({"state": query["state"], "connection_id": older["id"]})
        response = self.open_as(f"/powens/callback?{forged}", "powens_setup")
        self.assertEqual(response.status_code, 400)
        self.assertIn("did not create", response.text)
        self.assertFalse(self.bank.powens_connection_id)
        self.assertTrue(self.connection_exists_at_powens(powens_user, older["id"]), "never someone else's")

    def test_raw_error_text_of_the_query_string_never_reaches_the_chatter(self):
        """The error code is Powens' documented one, or a generic message: the text of the
        query string (error and error_description) is never posted."""
        for code, expected in (
            ("tos_declined", "declined Powens' terms of service"),
            (RAW_ERROR, "no documented reason"),
        ):
            with self.subTest(code=code):
                state = query_of(self.start_webview(self.bank))["state"]
                query = urlencode({"state": state, "error": code, "error_description": RAW_ERROR})
                response = self.open_as(f"/powens/callback?{query}", "powens_setup")
                self.assertEqual(response.status_code, 303)
                body = self.bank.message_ids[0].body
                self.assertIn(expected, body)
                self.assertNotIn("+33", body)
        self.assertFalse([message for message in self.bank.message_ids if "+33" in (message.body or "")])

    # --- §5: a bank connected twice ---------------------------------------------------------

    def test_bank_connected_by_the_holder_closes_its_request_and_refuses_the_delegated_flow(self):
        """F8: the request sent, then the holder connects the bank themselves."""
        connection_request = self.send_request()
        connection = self.connect_at_powens(self.bank, accounts=1)
        self.bank.with_user(self.setup_user)._powens_link_account(connection.account_ids)
        self.assertEqual(connection_request.state, "cancelled")
        with self.assertRaises(UserError):
            connection_request.with_user(self.invited).action_consent()

    def test_delegated_callback_for_a_bank_linked_meanwhile_is_refused_and_leaves_nothing_at_powens(self):
        """The invited user went through the webview; before they came back, the bank was
        connected another way. Their callback changes nothing, and what their round trip made
        at Powens is deleted there (F8, F9)."""
        connection_request = self.send_request()
        callback = WebviewDriver(self.sandbox.webview_url).connect(self.invited_webview_url(connection_request))
        made = int(query_of(callback)["connection_id"])
        holders = self.connect_at_powens(self.bank, accounts=1)
        self.bank._powens_link_account(holders.account_ids)
        response = self.open_as(self.relative(callback), "powens_attack_invited")
        self.assertEqual(response.status_code, 400)
        self.assertIn("deleted there", response.text)
        self.assertEqual(self.bank.powens_connection_id, holders, "the bank keeps its connection")
        self.assert_deleted_at_powens(made)
        self.assertTrue(self.connection_exists_at_powens(self.bank_user(), holders.powens_id))

    # --- §5: a refused callback leaves nothing at Powens ------------------------------------

    def test_callback_after_the_request_was_cancelled_leaves_nothing_at_powens(self):
        connection_request = self.send_request()
        callback = WebviewDriver(self.sandbox.webview_url).connect(self.invited_webview_url(connection_request))
        made = int(query_of(callback)["connection_id"])
        connection_request.with_user(self.setup_user).action_cancel()
        response = self.open_as(self.relative(callback), "powens_attack_invited")
        self.assertEqual(response.status_code, 400)
        self.assertFalse(self.bank.powens_connection_id)
        self.assert_deleted_at_powens(made)

    def test_callback_after_the_right_was_removed_leaves_nothing_at_powens(self):
        callback = WebviewDriver(self.sandbox.webview_url).connect(self.start_webview(self.bank))
        made = int(query_of(callback)["connection_id"])
        self.setup_user.group_ids = [Command.unlink(self.env.ref(SETUP_GROUP).id)]
        response = self.open_as(self.relative(callback), "powens_setup")
        self.assertEqual(response.status_code, 400)
        self.assertFalse(self.bank.powens_connection_id)
        self.assert_deleted_at_powens(made)

    def test_callback_failing_at_powens_leaves_nothing_at_powens(self):
        callback = WebviewDriver(self.sandbox.webview_url).connect(self.start_webview(self.bank))
        made = int(query_of(callback)["connection_id"])
        # The connection and its accounts come in one request: Powens refuses that one.
        self.sandbox.control(
            "POST", "/_sandbox/faults", {"kind": "429", "retry_after": 120, "path": f"/connections/{made}"}
        )
        response = self.open_as(self.relative(callback), "powens_setup")
        self.assertEqual(response.status_code, 400)
        self.assertFalse(self.env["powens.connection"].search([("powens_id", "=", made)]))
        self.assertFalse(self.bank.powens_connection_id)
        self.assert_deleted_at_powens(made)

    # --- §5: the request link is no oracle ---------------------------------------------------

    def test_request_link_answers_alike_for_a_missing_request_and_one_the_user_may_not_read(self):
        connection_request = self.send_request()
        missing = self.env["powens.connection.request"].search([], order="id desc", limit=1).id + 1000
        unreadable = self.open_as(f"/powens/request/{connection_request.id}", "powens_attack_third")
        absent = self.open_as(f"/powens/request/{missing}", "powens_attack_third")
        self.assertEqual((unreadable.status_code, unreadable.text), (absent.status_code, absent.text))
        self.assertEqual(connection_request.state, "sent", "a GET of someone else changes nothing")
        self.assertEqual(
            self.open_as(f"/powens/request/{connection_request.id}", "powens_attack_invited").status_code, 303
        )
        self.assertEqual(connection_request.state, "opened", "the invited user's GET only marks it opened")
