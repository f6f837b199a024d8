from odoo.tests import HttpCase, tagged

from .common import PowensSandboxMixin


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
