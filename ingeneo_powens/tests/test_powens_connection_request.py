"""Option 2, the delegated connection: the accountant sends a connection request to the ERP
user who holds the bank's credentials; that user, without any accounting right, consents and
goes through the same webview; back in the ERP the bank is connected as in Option 1."""

from datetime import timedelta

from psycopg2.errors import UniqueViolation

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import HttpCase, freeze_time, tagged
from odoo.tools import mute_logger

from ..const import SETUP_GROUP
from .common import PowensSandboxMixin, WebviewDriver, new_user

REQUEST = "powens.connection.request"


@tagged("post_install", "-at_install")
class TestPowensConnectionRequest(PowensSandboxMixin, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        company = {"company_id": cls.company.id, "company_ids": [cls.company.id]}
        cls.manager = new_user(
            cls.env,
            login="powens_manager",
            password="powens_manager",
            groups="base.group_user",
            name="Gérante",
            email="gerante@example.com",
            **company,
        )
        cls.third = new_user(
            cls.env,
            login="powens_third",
            password="powens_third",
            groups="base.group_user",
            email="third@example.com",
            **company,
        )

    # --- Helpers ----------------------------------------------------------------------------

    def send_request(self, user=None, journal=None):
        """What the accountant does: "Manage the automatic retrieval", "Send the connection
        request to a user", then the row button of ``user`` in the list of users."""
        journal = journal or self.bank
        user = user or self.manager
        journal.with_user(self.setup_user).action_powens_manage()
        action = journal.with_user(self.setup_user).action_powens_choose_request_user()
        listed = self.env["res.users"].with_user(self.setup_user).search(action["domain"])
        self.assertIn(user, listed)
        result = (
            user.with_user(self.setup_user).with_context(**action["context"]).action_powens_send_connection_request()
        )
        self.assertEqual(result["params"]["next"]["res_id"], journal.id, "back to the bank's dialog")
        return self.env[REQUEST].search([("journal_id", "=", journal.id)], order="id desc", limit=1)

    def start_webview_as_invited(self, connection_request, user=None):
        """The invited user consents on the request, then clicks POWENS: the webview URL."""
        mine = connection_request.with_user(user or self.manager)
        mine.action_consent()
        return mine.action_open_webview()["url"]

    def go_through_webview(self, connection_request, **choices):
        url = self.start_webview_as_invited(connection_request)
        callback = WebviewDriver(self.sandbox.webview_url).connect(url, **choices)
        base_url = self.bank.get_base_url()
        self.assertTrue(callback.startswith(base_url + "/powens/callback?"))
        return callback[len(base_url) :]

    def open_as(self, path, login):
        self.authenticate(login, login)
        return self.url_open(path, allow_redirects=False)

    def inbox_messages(self, user, connection_request):
        """The messages of ``connection_request`` waiting in ``user``'s inbox."""
        return (
            self.env["mail.notification"]
            .search(
                [
                    ("res_partner_id", "=", user.partner_id.id),
                    ("notification_type", "=", "inbox"),
                    ("is_read", "=", False),
                    ("mail_message_id.model", "=", REQUEST),
                    ("mail_message_id.res_id", "=", connection_request.id),
                ]
            )
            .mail_message_id
        )

    def queued_mails(self, connection_request):
        return self.env["mail.mail"].search([("model", "=", REQUEST), ("res_id", "=", connection_request.id)])

    def assert_bank_untouched(self):
        self.assertFalse(self.bank.powens_connection_id)
        self.assertEqual(self.bank.powens_state, "not_connected")
        self.assertFalse(self.env["powens.connection"].search([]))

    # --- The round trip ---------------------------------------------------------------------

    def test_round_trip_with_two_users(self):
        self.assertFalse(self.manager.has_group("account.group_account_readonly"))
        self.assertFalse(self.manager.has_group(SETUP_GROUP))
        before = fields.Datetime.now()
        connection_request = self.send_request()
        self.assertRecordValues(
            connection_request,
            [
                {
                    "state": "sent",
                    "requester_id": self.setup_user.id,
                    "invited_user_id": self.manager.id,
                    "company_id": self.company.id,
                    "email_to": "gerante@example.com",
                }
            ],
        )
        self.assertAlmostEqual(connection_request.expires_at, before + timedelta(days=7), delta=timedelta(minutes=1))

        link = f"{self.bank.get_base_url()}/powens/request/{connection_request.id}"
        mail = self.queued_mails(connection_request)
        self.assertEqual(len(mail), 1)
        self.assertEqual((mail.email_to, mail.state), ("gerante@example.com", "outgoing"))
        self.assertIn(link, mail.body_html)
        self.assertIn(self.bank.name, mail.subject)
        notification = self.inbox_messages(self.manager, connection_request)
        self.assertEqual(len(notification), 1, "one notification in the invited user's inbox")
        self.assertIn(link, notification.body)

        response = self.open_as(link[len(self.bank.get_base_url()) :], "powens_manager")
        self.assertEqual(response.status_code, 303)
        self.assertTrue(response.headers["Location"].endswith(f"/odoo/powens-requests/{connection_request.id}"))
        self.assertEqual(connection_request.state, "opened")
        seen = connection_request.with_user(self.manager).read(["journal_id", "company_id", "consent_text"])[0]
        self.assertEqual(seen["journal_id"][1], self.bank.name, "the invited user sees which bank")
        self.assertIn(self.company.name, seen["consent_text"])

        callback = self.go_through_webview(connection_request)
        self.assertEqual(connection_request.state, "consented")
        consent = connection_request.consent_id
        self.assertEqual((consent.user_id, consent.journal_id), (self.manager, self.bank))
        self.assertFalse(self.env["powens.connection"].search([]), "nothing recorded before the callback")
        bank_user = self.env["powens.user"].search([("journal_id", "=", self.bank.id)])
        accounts = bank_user._powens_client().list_accounts()
        self.bank.bank_acc_number = [account for account in accounts if account["iban"]][-1]["iban"]

        response = self.open_as(callback, "powens_manager")
        self.assertEqual(response.status_code, 303)
        self.assertTrue(
            response.headers["Location"].endswith(f"/odoo/powens-requests/{connection_request.id}"),
            "the invited user lands on the request, not on the bank they cannot read",
        )
        self.assertEqual(self.bank.powens_state, "waiting")
        self.assertTrue(self.bank.powens_account_id.enabled)
        connection = self.bank.powens_connection_id
        self.assertEqual(connection.connected_by_id, self.setup_user, "the requester follows the bank up")
        self.assertEqual(consent.connection_id, connection)
        self.assertEqual(connection_request.state, "connected")
        self.assertTrue(connection_request.connected_at)
        told = self.inbox_messages(self.setup_user, connection_request)
        self.assertTrue(any("connected the bank" in message.body for message in told), "the requester is notified")

    def test_sending_again_resends_or_replaces_never_duplicates(self):
        self.company.powens_request_validity_days = 3
        first = self.send_request()
        with freeze_time(fields.Datetime.now() + timedelta(days=1)):
            again = self.send_request()
        self.assertEqual(again, first, "the open request is sent again")
        self.assertEqual(len(self.queued_mails(first)), 2)
        self.assertAlmostEqual(first.expires_at, first.sent_at + timedelta(days=3), delta=timedelta(seconds=1))
        replaced = self.send_request(self.third)
        self.assertNotEqual(replaced, first)
        self.assertEqual((first.state, replaced.state), ("cancelled", "sent"))
        self.assertTrue(self.inbox_messages(self.manager, first).filtered(lambda message: "Replaced" in message.body))
        self.assertEqual(
            self.env[REQUEST].search_count(
                [("journal_id", "=", self.bank.id), ("state", "in", ("sent", "opened", "consented"))]
            ),
            1,
        )
        with self.assertRaises(UniqueViolation), mute_logger("odoo.sql_db"):
            self.env[REQUEST].create({"journal_id": self.bank.id, "invited_user_id": self.manager.id})
            self.env.flush_all()
        first.with_user(self.setup_user).action_resend()
        self.assertEqual(replaced.state, "cancelled", "resending a closed request replaces the open one")
        self.assertEqual(len(self.env[REQUEST].search([("journal_id", "=", self.bank.id)])), 3)

    def test_user_without_email_is_notified_in_the_inbox_only(self):
        self.third.partner_id.email = False
        connection_request = self.send_request(self.third)
        self.assertFalse(connection_request.email_to)
        self.assertFalse(self.queued_mails(connection_request))
        self.assertTrue(self.inbox_messages(self.third, connection_request))

    def test_decline_tells_the_requester(self):
        connection_request = self.send_request()
        connection_request.with_user(self.manager).action_consent()
        with self.assertRaises(UserError):
            connection_request.with_user(self.manager).action_consent()
        self.assertEqual(
            self.env["powens.consent"].search_count([("journal_id", "=", self.bank.id)]), 1, "one consent per request"
        )
        connection_request.with_user(self.manager).action_decline()
        self.assertEqual(connection_request.state, "declined")
        self.assertTrue(connection_request.consent_id.revoked_at, "the consent given is withdrawn")
        self.assertTrue(
            self.inbox_messages(self.setup_user, connection_request).filtered(
                lambda message: "declined" in message.body
            )
        )
        with self.assertRaises(UserError):
            connection_request.with_user(self.manager).action_open_webview()

    # --- Refusals ---------------------------------------------------------------------------

    def test_a_third_user_cannot_open_the_request(self):
        connection_request = self.send_request()
        mine = connection_request.with_user(self.third)
        with self.assertRaises(AccessError):
            mine.read(["state"])
        self.assertFalse(self.env[REQUEST].with_user(self.third).search([]))
        for action in ("action_consent", "action_open_webview", "action_decline"):
            with self.subTest(action=action), self.assertRaises(AccessError):
                getattr(mine, action)()
        response = self.open_as(f"/powens/request/{connection_request.id}", "powens_third")
        self.assertEqual(response.status_code, 404, "the same answer as for a request that does not exist")
        self.assertEqual(connection_request.state, "sent")
        self.assertFalse(connection_request.consent_id)

    def test_a_third_user_cannot_finish_the_invited_users_round_trip(self):
        callback = self.go_through_webview(self.send_request())
        response = self.open_as(callback, "powens_third")
        self.assertEqual(response.status_code, 400)
        self.assert_bank_untouched()

    def test_the_invited_user_touches_neither_the_bank_nor_the_settings(self):
        connection_request = self.send_request()
        bank = self.bank.with_user(self.manager)
        refused = {
            "read the bank": lambda: bank.read(["name"]),
            "connect": bank.action_powens_connect,
            "manage": bank.action_powens_manage,
            "choose the user": bank.action_powens_choose_request_user,
            "send a request": lambda: (
                self.third.with_user(self.manager)
                .with_context(powens_request_journal_id=self.bank.id)
                .action_powens_send_connection_request()
            ),
            "webview without the request": lambda: bank._powens_webview_url("connect", self.env["powens.consent"]),
            "settings": lambda: self.company.with_user(self.manager).write({"powens_domain": "hijacked"}),
            "settings form": self.company.with_user(self.manager).action_open_powens_settings,
            "resend": connection_request.with_user(self.manager).action_resend,
            "cancel": connection_request.with_user(self.manager).action_cancel,
            "write the request": lambda: connection_request.with_user(self.manager).write({"state": "connected"}),
        }
        for name, run in refused.items():
            with self.subTest(name), self.assertRaises(AccessError):
                run()
        self.assertEqual(self.company.powens_domain, "sandbox")
        self.assertEqual(connection_request.state, "sent")

    def test_the_invited_user_cannot_use_another_request(self):
        other_bank = self.env["account.journal"].create(
            {"name": "Autre banque", "type": "bank", "company_id": self.company.id}
        )
        mine = self.send_request()
        theirs = self.send_request(self.third, journal=other_bank)
        with self.assertRaises(AccessError):
            theirs.with_user(self.manager).read(["state"])
        with self.assertRaises(AccessError):
            theirs.with_user(self.manager).action_consent()
        mine.with_user(self.manager).action_consent()
        with self.assertRaises(AccessError):
            other_bank.with_user(self.manager)._powens_webview_url(
                "connect", mine.consent_id, connection_request=mine.with_user(self.manager)
            )
        self.assertEqual(theirs.state, "sent")

    def test_an_expired_request_is_refused(self):
        connection_request = self.send_request()
        with freeze_time(fields.Datetime.now() + timedelta(days=8)):
            with self.assertRaisesRegex(UserError, "expired"):
                connection_request.with_user(self.manager).action_consent()
            cron = self.env.ref("ingeneo_powens.ir_cron_powens_request_expiry")
            with self.enter_registry_test_mode():
                cron.method_direct_trigger()
        self.env.invalidate_all()
        self.assertEqual(connection_request.state, "expired")
        self.assertTrue(
            self.inbox_messages(self.setup_user, connection_request).filtered(
                lambda message: "expired" in message.body
            ),
            "the requester learns it",
        )
        with self.assertRaises(UserError):
            connection_request.with_user(self.manager).action_consent()

    def test_a_request_expiring_during_the_webview_is_refused_at_the_callback(self):
        connection_request = self.send_request()
        connection_request.expires_at = fields.Datetime.now() + timedelta(minutes=10)
        callback = self.go_through_webview(connection_request)
        with freeze_time(fields.Datetime.now() + timedelta(minutes=20)):
            response = self.open_as(callback, "powens_manager")
        self.assertEqual(response.status_code, 400)
        self.assertIn("expired", response.text)
        self.assert_bank_untouched()

    def test_a_cancelled_request_is_refused(self):
        connection_request = self.send_request()
        callback = self.go_through_webview(connection_request)
        connection_request.with_user(self.setup_user).action_cancel()
        self.assertEqual(connection_request.state, "cancelled")
        self.assertTrue(
            self.inbox_messages(self.manager, connection_request).filtered(lambda message: "Cancelled" in message.body),
            "the invited user learns it",
        )
        response = self.open_as(callback, "powens_manager")
        self.assertEqual(response.status_code, 400)
        self.assertIn("cancelled", response.text)
        self.assert_bank_untouched()
        with self.assertRaises(UserError):
            connection_request.with_user(self.manager).action_open_webview()

    def test_a_replayed_callback_is_refused(self):
        callback = self.go_through_webview(self.send_request())
        self.assertEqual(self.open_as(callback, "powens_manager").status_code, 303)
        connections = self.env["powens.connection"].search([])
        self.assertEqual(len(connections), 1)
        response = self.open_as(callback, "powens_manager")
        self.assertEqual(response.status_code, 400)
        self.assertIn("already used", response.text)
        self.assertEqual(self.env["powens.connection"].search([]), connections)
