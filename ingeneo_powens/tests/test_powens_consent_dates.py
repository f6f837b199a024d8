"""Issue 14, "Consent dates": the consent's end comes from the sources' ``access_expire`` (the
earliest), read at every state refresh and never erased by a read without it; the 7-day
reminder then fires; "Renew the consent" renews the way Powens documents it (``refresh_auth``,
then the reconnect webview when Powens asks) and says "renewed" only when Powens' date moved.
Both sides of the sandbox's switches (powens_sandbox/README.md, "Consent dates")."""

from datetime import timedelta

from odoo.tests import HttpCase, tagged

from ..powens.values import naive_utc, parse_datetime
from .common import PowensSandboxMixin, WebviewDriver

CONSENT_REMINDER = "ingeneo_powens.mail_activity_type_powens_consent_renewal"


class ConsentCaseMixin(PowensSandboxMixin):
    """A bank fed by a sandbox connection with ``sources``, connected by the holder of the right."""

    sources = ("openapi",)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        company = cls.company
        powens_user = company._powens_create_user(cls.bank)  # the bank's own Powens user
        client = powens_user._powens_client()
        test_bank = client.list_connectors(search="Banque de test")[0]
        created = cls.sandbox.control(
            "POST",
            f"/_sandbox/users/{powens_user.powens_id}/connections",
            {
                "connector_uuid": test_bank["uuid"],
                "login": "alice",
                "password": "secret",
                "accounts": 1,
                "months": 0,
                "sources": list(cls.sources),
            },
        )
        cls.connection = cls.env["powens.connection"]._sync_from_powens(
            company,
            client.get_connection(created["id"], expand=("connector", "sources")),
            connected_by=cls.setup_user,
            user=powens_user,
        )
        cls.env["powens.account"]._sync_from_powens(cls.connection, client.list_accounts(created["id"]))
        cls.bank.powens_connection_id = cls.connection
        cls.bank._powens_link_account(cls.connection.account_ids)

    def setUp(self):
        super().setUp()
        # The sandbox outlives each test's rolled-back transaction: every test starts from a
        # healthy connection whose consent runs its full 180 days.
        self.sandbox.control("POST", f"/_sandbox/connections/{self.connection.powens_id}/state", {"state": None})
        self.move_consent(days=180)
        self.connection._sync_from_powens(self.company, self.powens_connection())

    def said(self):
        """Everything the bank's chatter says."""
        return " ".join(self.bank.message_ids.mapped("body"))

    def powens_connection(self):
        return self.bank._powens_client().get_connection(self.connection.powens_id, expand=("sources",))

    def powens_now(self):
        return parse_datetime(self.sandbox.control("GET", "/_sandbox/clock")["now"])

    def move_consent(self, days, source=None):
        """The consent of ``source`` (all by default) now ends in ``days`` days; returns that
        end as Odoo stores it."""
        end = (self.powens_now() + timedelta(days=days)).strftime("%Y-%m-%d %H:%M:%S")
        self.sandbox.control(
            "POST",
            f"/_sandbox/connections/{self.connection.powens_id}/consent",
            {"access_expire": end, **({"source": source} if source else {})},
        )
        return naive_utc(parse_datetime(end))

    def scheduled_retrieval(self):
        self.env["powens.retrieval"]._retrieve(self.bank, "cron")

    def open_callback(self, url):
        """The browser back from the webview, signed in as the holder of the right."""
        self.authenticate("powens_setup", "powens_setup")
        return self.url_open(url[len(self.bank.get_base_url()) :], allow_redirects=False)


@tagged("post_install", "-at_install")
class TestPowensConsentDates(ConsentCaseMixin, HttpCase):
    def test_expiry_comes_from_the_sources_at_every_scheduled_read(self):
        end = self.move_consent(days=40)
        self.scheduled_retrieval()
        self.assertEqual(self.connection.consent_expires_at, end)
        self.assertIsNone(self.powens_connection()["expire"], "connection.expire is not the consent's end")

    def test_a_read_without_sources_keeps_the_expiry(self):
        known = self.connection.consent_expires_at
        self.assertTrue(known)
        self.connection._sync_from_powens(
            self.company, self.bank._powens_client().get_connection(self.connection.powens_id)
        )
        self.assertEqual(self.connection.consent_expires_at, known)

    def test_a_notification_with_sources_moves_the_expiry(self):
        end = self.move_consent(days=30)
        data = self.powens_connection()
        self.env["powens.webhook.event"]._powens_receive(
            self.company,
            "CONNECTION_SYNCED",
            {"id_webhook_data": 9_100_001, "user": {"id": self.connection.user_id.powens_id}, "connection": data},
        )
        self.assertEqual(self.connection.consent_expires_at, end)

    def test_consent_ending_within_a_week_reminds_the_person_who_connected(self):
        end = self.move_consent(days=5)
        self.scheduled_retrieval()
        reminder = self.bank.activity_ids.filtered(
            lambda activity: activity.activity_type_id == self.env.ref(CONSENT_REMINDER)
        )
        self.assertEqual((reminder.user_id, reminder.date_deadline), (self.setup_user, end.date()))

    def test_renew_asks_powens_then_the_webview_and_says_renewed_once_the_date_moved(self):
        before = self.connection.consent_expires_at
        self.sandbox.control("POST", "/_sandbox/clock", {"advance_seconds": 60 * 86400})
        self.addCleanup(self.sandbox.control, "POST", "/_sandbox/clock", {"advance_seconds": -60 * 86400})
        self.sandbox.control("DELETE", "/_sandbox/calls")
        action = self.bank.with_user(self.setup_user).action_powens_reconnect()
        refresh = [
            call
            for call in self.sandbox.control("GET", "/_sandbox/calls")
            if call["method"] == "POST" and call["path"].endswith(f"/connections/{self.connection.powens_id}")
        ]
        self.assertEqual(len(refresh), 1, "refresh_auth, the documented early renewal")
        self.assertEqual(action["res_model"], "powens.consent.wizard", "Powens asks for the SCA: the webview")
        self.assertEqual(self.bank.powens_state, "action_required")
        driver = WebviewDriver(self.sandbox.webview_url)
        driver.open(self.start_webview(self.bank, flow="reconnect"))
        driver.press("resume")  # the holder approved in their banking app
        self.assertEqual(self.open_callback(driver.redirect_location()).status_code, 303)
        self.assertGreater(self.connection.consent_expires_at, before + timedelta(days=50))
        self.assertIn("Consent renewed", self.said())
        self.assertIn(self.bank.powens_state, ("waiting", "connected"))

    def test_a_reconnection_that_moves_no_date_does_not_say_renewed(self):
        """The reconnect webview alone on a healthy connection (what "Renew the consent" did
        before): Powens prompts nothing and renews nothing, and the bank says so."""
        self.sandbox.control("POST", "/_sandbox/clock", {"advance_seconds": 30 * 86400})
        self.addCleanup(self.sandbox.control, "POST", "/_sandbox/clock", {"advance_seconds": -30 * 86400})
        driver = WebviewDriver(self.sandbox.webview_url)
        driver.open(self.start_webview(self.bank, flow="reconnect"))
        self.open_callback(driver.redirect_location())
        self.assertNotIn("renewed by", self.said())
        self.assertIn("the consent was not renewed", self.said())


@tagged("post_install", "-at_install")
class TestPowensConsentOfTwoSources(ConsentCaseMixin, HttpCase):
    """The other reading of ``connection.expire`` (the highest of the sources' consents): the
    bank still shows the earliest consent, the one that stops the sync."""

    sandbox_args = ("--connection-expire", "consent")
    sources = ("openapi", "directaccess")

    def test_the_earliest_source_consent_is_shown_not_connection_expire(self):
        earliest = self.move_consent(days=20, source="directaccess")
        self.scheduled_retrieval()
        self.assertEqual(self.connection.consent_expires_at, earliest)
        latest = naive_utc(parse_datetime(self.powens_connection()["expire"]))
        self.assertGreater(latest, earliest, "the sandbox plays the reading where expire differs")


@tagged("post_install", "-at_install")
class TestPowensConsentWithoutEarlyRenewal(ConsentCaseMixin, HttpCase):
    """A bank whose only source is not ``openapi``: ``refresh_auth`` is not effective, Powens
    asks nothing and renews nothing, and the bank says so instead of "renewed"."""

    sources = ("directaccess",)

    def test_renew_says_the_consent_was_not_renewed(self):
        before = self.connection.consent_expires_at
        action = self.bank.with_user(self.setup_user).action_powens_reconnect()
        self.assertEqual(action["params"]["type"], "warning")
        self.assertIn("did not renew the consent", action["params"]["message"])
        self.assertEqual(self.connection.consent_expires_at, before)


@tagged("post_install", "-at_install")
class TestPowensConsentWhenReconnectRenews(ConsentCaseMixin, HttpCase):
    """The undocumented other side: a sandbox whose reconnect webview renews the consent of a
    healthy connection. "Renew the consent" behaves the same, and is just as honest."""

    sandbox_args = ("--reconnect-renews-consent",)

    def test_renew_still_goes_through_refresh_auth_and_reports_the_new_date(self):
        before = self.connection.consent_expires_at
        self.sandbox.control("POST", "/_sandbox/clock", {"advance_seconds": 60 * 86400})
        self.addCleanup(self.sandbox.control, "POST", "/_sandbox/clock", {"advance_seconds": -60 * 86400})
        action = self.bank.with_user(self.setup_user).action_powens_reconnect()
        self.assertEqual(action["res_model"], "powens.consent.wizard")
        driver = WebviewDriver(self.sandbox.webview_url)
        driver.open(self.start_webview(self.bank, flow="reconnect"))
        driver.press("resume")
        self.open_callback(driver.redirect_location())
        self.assertGreater(self.connection.consent_expires_at, before + timedelta(days=50))
        self.assertIn("Consent renewed", self.said())
