from odoo.tests import HttpCase, tagged


@tagged("post_install", "-at_install")
class TestReferentialTour(HttpCase):
    def test_add_bank_from_company_referential(self):
        company = self.env.company
        self.start_tour(f"/odoo/action-base.action_res_company_form/{company.id}", "ingeneo_powens_add_bank", login="admin")
        journal = self.env["account.journal"].search(
            [("company_id", "=", company.id), ("name", "=", "Crédit Mutuel - compte pro")]
        )
        self.assertEqual(journal.type, "bank")
