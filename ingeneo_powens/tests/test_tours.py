from odoo.tests import HttpCase, tagged

from .common import PowensSandboxMixin, autopilot_iban, new_user

# The translations the tours' pages show: INGENEO's users work in French.
FRENCH_MODULES = ["base", "web", "mail", "account", "ingeneo_powens"]


@tagged("post_install", "-at_install")
class TestTours(PowensSandboxMixin, HttpCase):
    """End-to-end in Chromium, in French. The browser leaves Odoo for the webview's origin,
    where a tour cannot run steps: the sandbox's autopilot fills its real forms (bank,
    credentials, one-time code, accounts), and the tour resumes back in Odoo."""

    # A month of history: the tours show movements arriving, not how many.
    sandbox_args = ("--autopilot", "--history-months", "1")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("fr_FR")
        cls.env["ir.module.module"]._load_module_terms(FRENCH_MODULES, ["fr_FR"])
        cls.setup_user.write({"lang": "fr_FR", "tz": "Europe/Paris"})
        company = {"company_id": cls.company.id, "company_ids": [cls.company.id]}
        cls.manager = new_user(
            cls.env,
            login="powens_manager",
            password="powens_manager",
            name="Gérante",
            email="gerante@example.com",
            groups="base.group_user",
            lang="fr_FR",
            **company,
        )

    def retrieve(self, journal, trigger="cron"):
        journal.env["powens.retrieval"]._retrieve(journal, trigger)

    def test_option_1_from_the_referential_to_the_imported_movements(self):
        """The accountant holding the right adds the bank to the referential, connects it
        through the webview, and sees its movements."""
        self.start_tour("/odoo", "ingeneo_powens_add_bank", login="powens_setup")
        bank = self.env["account.journal"].search(
            [("company_id", "=", self.company.id), ("name", "=", "Crédit Mutuel - compte pro")]
        )
        self.assertEqual(bank.type, "bank")
        bank_url = f"/odoo/action-account.action_account_journal_form/{bank.id}"
        self.start_tour(bank_url, "ingeneo_powens_connect_bank", login="powens_setup")
        self.assertEqual(bank.powens_state, "waiting")
        self.assertTrue(bank.powens_account_id.enabled)
        self.assertEqual(bank.powens_connection_id.connected_by_id, self.setup_user)
        self.start_tour(bank_url, "ingeneo_powens_bank_movements", login="powens_setup")
        self.assertEqual(bank.powens_state, "connected")
        self.assertTrue(self.env["account.bank.statement.line"].search_count([("journal_id", "=", bank.id)]))

    def test_first_connection_from_add_bank_with_its_iban(self):
        """Issue 16 §4: the bank added with its IBAN comes back from Powens on its POWENS tab,
        its account linked by itself; the other shared accounts become banks in one click.
        Issue 16 §1: after the first retrieval, "Créer le solde d'ouverture" brings the gap
        with the bank to 0."""
        self.start_tour("/odoo", "ingeneo_powens_first_connection", login="powens_setup")
        bank = self.env["account.journal"].search(
            [("company_id", "=", self.company.id), ("name", "=", "Banque de test - compte courant")]
        )
        self.assertEqual(bank.bank_acc_number, autopilot_iban())
        self.assertEqual(bank.powens_account_id.iban, autopilot_iban())
        self.assertEqual(bank.powens_state, "connected")
        self.assertTrue(self.env["account.bank.statement.line"].search_count([("journal_id", "=", bank.id)]))
        self.assertEqual(bank.powens_opening_state, "created")
        self.assertTrue(bank.powens_opening_line_id.amount)
        currency = bank.currency_id or bank.company_id.currency_id
        self.assertTrue(currency.is_zero(bank.powens_balance_difference), "the gap with the bank is 0")
        others = bank.powens_connection_id.account_ids - bank.powens_account_id
        self.assertTrue(others)
        self.assertEqual(others.journal_ids.mapped("powens_state"), ["waiting"] * len(others))

    def test_option_2_from_the_request_to_the_managers_connection(self):
        """The accountant sends the request; the manager, who holds the credentials and no
        accounting right, connects the bank from the notification; the accountant then
        sees the movements."""
        new_user(
            self.env,
            login="powens_nomail",
            groups="base.group_user",
            company_id=self.company.id,
            company_ids=[self.company.id],
        ).partner_id.email = False
        self.bank.bank_acc_number = autopilot_iban()
        bank_url = f"/odoo/action-account.action_account_journal_form/{self.bank.id}"
        self.start_tour(bank_url, "ingeneo_powens_send_connection_request", login="powens_setup")
        connection_request = self.env["powens.connection.request"].search([("journal_id", "=", self.bank.id)])
        self.assertEqual((connection_request.invited_user_id, connection_request.state), (self.manager, "sent"))

        self.start_tour("/odoo", "ingeneo_powens_connection_request", login="powens_manager")
        self.assertEqual(connection_request.state, "connected")
        self.assertEqual(connection_request.consent_id.user_id, self.manager)
        self.assertEqual(self.bank.powens_state, "waiting")
        self.assertTrue(self.bank.powens_account_id.enabled)

        self.start_tour(bank_url, "ingeneo_powens_bank_movements", login="powens_setup")
        self.assertEqual(self.bank.powens_state, "connected")

    def bank_asking_for_strong_authentication(self):
        """The bank, connected and retrieved, then asking for a strong authentication again;
        returns its connection."""
        connection = self.connect_at_powens(self.bank, accounts=1)
        self.bank._powens_link_account(connection.account_ids)
        self.retrieve(self.bank, "manual")
        self.assertEqual(self.bank.powens_state, "connected")
        self.sandbox.control(
            "POST",
            f"/_sandbox/connections/{connection.powens_id}/state",
            {"state": "SCARequired", "error_message": "La banque demande une authentification forte."},
        )
        self.retrieve(self.bank)
        self.assertEqual(self.bank.powens_state, "action_required")
        return connection

    def test_reconnect_after_the_bank_asks_for_strong_authentication(self):
        connection = self.bank_asking_for_strong_authentication()
        self.start_tour(
            f"/odoo/action-account.action_account_journal_form/{self.bank.id}",
            "ingeneo_powens_reconnect_bank",
            login="powens_setup",
        )
        self.assertEqual(self.bank.powens_state, "connected")
        self.assertFalse(connection.powens_state)

    def test_cockpit_from_action_required_to_the_reconnected_bank(self):
        """The cockpit's "Action requise" leads to the bank asking for a strong authentication;
        reconnected, it leaves the filter."""
        connection = self.bank_asking_for_strong_authentication()
        self.assertTrue(self.bank.powens_action_required)
        self.start_tour("/odoo", "ingeneo_powens_cockpit_reconnect", login="powens_setup")
        self.assertEqual(self.bank.powens_state, "connected")
        self.assertFalse(connection.powens_state)
        self.assertFalse(self.bank.powens_action_required)
