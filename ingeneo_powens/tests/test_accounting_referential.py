from odoo.exceptions import AccessError
from odoo.tests import Form, TransactionCase, tagged

from .common import new_user


@tagged("post_install", "-at_install")
class TestAccountingReferential(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env.company
        cls.setup_user = new_user(
            cls.env, login="setup_user", groups="base.group_user,ingeneo_powens.group_accounting_setup"
        )
        cls.accountant = new_user(cls.env, login="accountant", groups="account.group_account_user")

    def test_right_held_by_accounting_administrators(self):
        admin = self.env.ref("base.user_admin")
        self.assertTrue(admin.has_group("ingeneo_powens.group_accounting_setup"))
        manager = new_user(self.env, login="manager", groups="account.group_account_manager")
        self.assertTrue(manager.has_group("ingeneo_powens.group_accounting_setup"))

    def test_right_granted_on_its_own(self):
        self.assertTrue(self.setup_user.has_group("ingeneo_powens.group_accounting_setup"))
        self.assertFalse(self.setup_user.has_group("account.group_account_manager"))
        self.assertFalse(self.accountant.has_group("ingeneo_powens.group_accounting_setup"))

    def test_holder_adds_a_bank_to_the_referential_without_being_administrator(self):
        action = self.company.with_user(self.setup_user).action_add_bank()
        self.assertEqual(action["target"], "new")
        form = Form(self.env[action["res_model"]].with_user(self.setup_user).with_context(**action["context"]))
        form.name = "Banque Populaire - compte courant"
        form.save().action_save()
        journal = self.company.bank_journal_ids.filtered(lambda j: j.name == "Banque Populaire - compte courant")
        self.assertEqual(journal.type, "bank")
        self.assertEqual(journal.company_id, self.company)

    def test_accountant_without_the_right_cannot_add_a_bank(self):
        with self.assertRaises(AccessError):
            self.company.with_user(self.accountant).action_add_bank()
        wizard = self.env["account.referential.bank.wizard"].create({"company_id": self.company.id, "name": "X"})
        with self.assertRaises(AccessError):
            wizard.with_user(self.accountant).action_save()

    def test_referential_lists_only_banks(self):
        sale_journal = self.env["account.journal"].create({"name": "Ventes test", "type": "sale", "code": "VTST"})
        self.assertNotIn(sale_journal, self.company.bank_journal_ids)

    def test_referential_tab_hidden_without_the_right(self):
        arch = self.env["res.company"].with_user(self.accountant).get_views([(False, "form")])["views"]["form"]["arch"]
        self.assertNotIn('name="accounting_referential"', arch)
        arch = self.env["res.company"].with_user(self.setup_user).get_views([(False, "form")])["views"]["form"]["arch"]
        self.assertIn('name="accounting_referential"', arch)

    def test_company_write_stays_reserved(self):
        with self.assertRaises(AccessError):
            self.company.with_user(self.accountant).write({"name": "Hijacked"})
