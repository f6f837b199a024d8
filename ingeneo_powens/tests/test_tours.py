from odoo.tests import HttpCase, new_test_user, tagged

from .common import PowensSandboxMixin, autopilot_iban


@tagged("post_install", "-at_install")
class TestReferentialTour(HttpCase):
    def test_add_bank_from_company_referential(self):
        company = self.env.company
        self.start_tour(f"/odoo/action-base.action_res_company_form/{company.id}", "ingeneo_powens_add_bank", login="admin")
        journal = self.env["account.journal"].search(
            [("company_id", "=", company.id), ("name", "=", "Crédit Mutuel - compte pro")]
        )
        self.assertEqual(journal.type, "bank")


@tagged("post_install", "-at_install")
class TestConnectBankTour(PowensSandboxMixin, HttpCase):
    """The browser leaves Odoo for the webview's origin, where a tour cannot run steps: the
    sandbox's autopilot fills its real forms, and the tour resumes back in Odoo."""

    sandbox_args = ("--autopilot",)

    def test_connect_bank_through_the_webview(self):
        self.start_tour(
            f"/odoo/action-account.action_account_journal_form/{self.bank.id}",
            "ingeneo_powens_connect_bank", login="powens_setup")
        self.assertEqual(self.bank.powens_state, "waiting")
        self.assertTrue(self.bank.powens_account_id.enabled)
        self.assertEqual(self.bank.powens_connection_id.connected_by_id, self.setup_user)


@tagged("post_install", "-at_install")
class TestConnectionRequestTour(PowensSandboxMixin, HttpCase):
    """The invited user's side of Option 2, from the inbox notification to the connected bank,
    through the webview's other origin (driven by the sandbox's autopilot, as in Option 1)."""

    sandbox_args = ("--autopilot",)

    def test_invited_user_connects_the_bank_from_the_inbox(self):
        manager = new_test_user(
            self.env, login="powens_manager", password="powens_manager", groups="base.group_user",
            email="gerante@example.com", company_id=self.company.id, company_ids=[self.company.id])
        self.bank.bank_acc_number = autopilot_iban()
        connection_request = self.env["powens.connection.request"].with_user(self.setup_user)._send(self.bank, manager)
        self.start_tour("/odoo", "ingeneo_powens_connection_request", login="powens_manager")
        self.assertEqual(connection_request.state, "connected")
        self.assertEqual(self.bank.powens_state, "waiting")
        self.assertTrue(self.bank.powens_account_id.enabled)
        self.assertEqual(connection_request.consent_id.user_id, manager)


@tagged("post_install", "-at_install")
class TestSendConnectionRequestTour(PowensSandboxMixin, HttpCase):
    """The accountant's side of Option 2: from the bank to the request sent."""

    def test_send_the_request_from_the_bank(self):
        company = {"company_id": self.company.id, "company_ids": [self.company.id]}
        manager = new_test_user(
            self.env, login="powens_manager", name="Gérante", email="gerante@example.com",
            groups="base.group_user", **company)
        new_test_user(self.env, login="powens_nomail", groups="base.group_user", **company).partner_id.email = False
        self.start_tour(
            f"/odoo/action-account.action_account_journal_form/{self.bank.id}",
            "ingeneo_powens_send_connection_request", login="powens_setup")
        connection_request = self.env["powens.connection.request"].search([("journal_id", "=", self.bank.id)])
        self.assertEqual((connection_request.invited_user_id, connection_request.state), (manager, "sent"))
