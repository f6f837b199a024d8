from datetime import timedelta

from odoo import fields
from odoo.exceptions import UserError, ValidationError
from odoo.tests import HttpCase, freeze_time, tagged

from .common import PowensSandboxMixin, WebviewDriver, query_of


@tagged("post_install", "-at_install")
class TestPowensConnect(PowensSandboxMixin, HttpCase):
    """Option 1 end to end: consent, webview, callback, the bank connected."""

    def go_through_webview(self, journal, **choices):
        """The browser's round trip: the ERP sends it to the webview, the holder connects,
        the webview sends it back; returns the callback URL (relative to Odoo)."""
        url = self.start_webview(journal)
        callback = WebviewDriver(self.sandbox.webview_url).connect(url, **choices)
        self.assertTrue(callback.startswith(journal.get_base_url() + "/powens/callback?"))
        return callback[len(journal.get_base_url()) :]

    def open_callback(self, path, login="powens_setup"):
        self.authenticate(login, login)
        return self.url_open(path, allow_redirects=False)

    def powens_accounts(self):
        bank_user = self.env["powens.user"].search([("journal_id", "=", self.bank.id)])
        return bank_user._powens_client().list_accounts()

    def test_connect_links_the_account_whose_iban_matches(self):
        callback = self.go_through_webview(self.bank)
        target = [account for account in self.powens_accounts() if account["iban"]][-1]
        self.bank.bank_acc_number = target["iban"]
        response = self.open_callback(callback)
        self.assertEqual(response.status_code, 303)
        self.assertIn(f"/odoo/powens-bank?journal_id={self.bank.id}", response.headers["Location"])
        self.assertEqual(self.bank.powens_state, "waiting")
        self.assertIn("48 to 72 hours", self.bank.powens_message)
        self.assertEqual(self.bank.powens_account_id.powens_id, target["id"])
        self.assertEqual(self.bank.bank_statements_source, "powens")
        connection = self.bank.powens_connection_id
        self.assertEqual(connection.connected_by_id, self.setup_user)
        self.assertTrue(connection.consent_expires_at > fields.Datetime.now() + timedelta(days=170))
        consent = self.env["powens.consent"].search([("journal_id", "=", self.bank.id)])
        self.assertEqual((consent.user_id, consent.connection_id), (self.setup_user, connection))
        self.assertIn(self.company.name, consent.consent_text)

    def test_without_matching_iban_the_user_chooses_among_the_shared_accounts(self):
        callback = self.go_through_webview(self.bank, accounts=[0, 2])
        self.open_callback(callback)
        self.assertEqual(self.bank.powens_state, "not_connected")
        connection = self.bank.powens_connection_id
        unshared = connection.account_ids.filtered(lambda account: not account.enabled)
        self.assertEqual(len(unshared), 1, "the holder ticked two accounts out of three")
        choices = self.bank.powens_account_choice_ids
        self.assertEqual(choices, connection.account_ids - unshared, "only the accounts the holder shared")
        Wizard = self.env["powens.account.link.wizard"].with_user(self.setup_user)
        with self.assertRaises(ValidationError):
            Wizard.with_context(default_journal_id=self.bank.id).create({"account_id": unshared.id})
        with self.assertRaises(UserError):
            self.bank.with_user(self.setup_user)._powens_link_account(unshared)
        wizard = Wizard.with_context(default_journal_id=self.bank.id).create({"account_id": choices[0].id})
        wizard.action_link()
        self.assertEqual(self.bank.powens_account_id, choices[0])
        self.assertEqual(self.bank.powens_state, "waiting")
        enabled_at_powens = {item["id"]: item["disabled"] is None for item in self.powens_accounts()}
        self.assertFalse(enabled_at_powens[unshared.powens_id], "never enabled at Powens by the ERP")

    def test_the_banks_account_left_unshared_is_not_linked_and_the_bank_says_so(self):
        callback = self.go_through_webview(self.bank, accounts=[0])
        unshared = [account for account in self.powens_accounts() if account["disabled"] and account["iban"]][-1]
        self.bank.bank_acc_number = unshared["iban"]
        self.open_callback(callback)
        self.assertEqual((self.bank.powens_state, self.bank.powens_account_id.id), ("not_connected", False))
        self.assertIn("was not shared in Powens' pages", self.bank.powens_message)
        enabled_at_powens = {item["id"]: item["disabled"] is None for item in self.powens_accounts()}
        self.assertFalse(enabled_at_powens[unshared["id"]], "never enabled at Powens by the ERP")

    def test_cancel_at_powens_changes_nothing(self):
        url = self.start_webview(self.bank)
        driver = WebviewDriver(self.sandbox.webview_url)
        driver.open(url)
        driver.press("cancel")
        callback = driver.redirect_location()
        self.assertEqual(query_of(callback)["error"], "access_denied")
        self.open_callback(callback[len(self.bank.get_base_url()) :])
        self.assertEqual(self.bank.powens_state, "not_connected")
        self.assertFalse(self.env["powens.connection"].search([]))

    def test_forged_expired_replayed_and_foreign_states_are_refused(self):
        callback = self.go_through_webview(self.bank)
        query = query_of(callback)
        signature = query["state"].split(".")[1]
        forged = callback.replace(signature, signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB"))
        response = self.open_callback(forged)
        self.assertEqual(response.status_code, 400)
        self.assertIn("not genuine", response.text)
        response = self.open_callback(callback, login="powens_accountant")
        self.assertEqual(response.status_code, 400)
        self.assertFalse(self.env["powens.connection"].search([]), "nothing changed")
        self.assertEqual(self.open_callback(callback).status_code, 303)
        connections = self.env["powens.connection"].search([])
        self.assertEqual(len(connections), 1)
        response = self.open_callback(callback)
        self.assertEqual(response.status_code, 400)
        self.assertIn("already used", response.text)
        self.assertEqual(self.env["powens.connection"].search([]), connections)

    def test_expired_state_records_nothing_and_leaves_nothing_at_powens(self):
        """Coming back after the state's 30 minutes: refused, and the connection the webview
        made is deleted at Powens, where nobody could reach it from INGENEO (GDPR)."""
        callback = self.go_through_webview(self.bank)
        made = query_of(callback)["connection_id"]
        with freeze_time(fields.Datetime.now() + timedelta(minutes=31)):
            response = self.open_callback(callback)
        self.assertEqual(response.status_code, 400)
        self.assertIn("expired", response.text)
        self.assertIn("deleted there", response.text)
        self.assertFalse(self.env["powens.connection"].search([]))
        self.assertNotIn(
            int(made),
            [
                item["id"]
                for item in self.env["powens.user"]
                .search([("journal_id", "=", self.bank.id)])
                ._powens_client()
                .list_connections()
            ],
        )

    def test_disconnect_deletes_at_powens_and_keeps_the_journal(self):
        self.open_callback(self.go_through_webview(self.bank, accounts=[0]))
        self.bank.with_user(self.setup_user).action_powens_choose_account()
        account = self.bank.powens_account_choice_ids.filtered("enabled")
        self.bank.with_user(self.setup_user)._powens_link_account(account)
        powens_id = self.bank.powens_connection_id.powens_id
        self.bank.with_user(self.setup_user).action_powens_disconnect()
        self.assertEqual(self.bank.powens_state, "disconnected")
        self.assertFalse(self.bank.powens_account_id)
        calls = self.sandbox.control("GET", "/_sandbox/calls")
        self.assertIn(
            ("DELETE", f"/2.0/users/me/connections/{powens_id}"), [(call["method"], call["path"]) for call in calls]
        )
        consent = self.env["powens.consent"].search([("journal_id", "=", self.bank.id)])
        self.assertTrue(consent.revoked_at, "the consent record stays, marked withdrawn")

    def test_reconnect_after_strong_authentication_lapsed(self):
        self.open_callback(self.go_through_webview(self.bank))
        self.bank._powens_link_account(self.bank.powens_account_choice_ids[0])
        connection = self.bank.powens_connection_id
        self.sandbox.control(
            "POST",
            f"/_sandbox/connections/{connection.powens_id}/state",
            {"state": "SCARequired", "error_message": "Authentification forte requise"},
        )
        data = self.bank._powens_client().get_connection(connection.powens_id)
        connection._sync_from_powens(self.company, data)
        self.bank._powens_apply_connection_state()
        self.assertEqual(self.bank.powens_state, "action_required")
        self.assertIn("Authentification forte requise", self.bank.powens_message, "the bank's words, after what to do")
        url = self.start_webview(self.bank, flow="reconnect")
        self.assertIn(f"connection_id={connection.powens_id}", url)
        driver = WebviewDriver(self.sandbox.webview_url)
        driver.open(url)
        driver.press("submit", otp="123456")
        callback = driver.redirect_location()
        self.open_callback(callback[len(self.bank.get_base_url()) :])
        self.assertEqual(self.bank.powens_state, "waiting")
        self.assertFalse(connection.powens_state)
