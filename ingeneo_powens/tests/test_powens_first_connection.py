from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, HttpCase, tagged

from powens_sandbox import autopilot
from powens_sandbox.bank_data import discover_accounts
from powens_sandbox.config import SandboxConfig
from powens_sandbox.webview import DISCOVERED_ACCOUNTS

from .common import PowensSandboxMixin, WebviewDriver


def bank_accounts_of(login):
    """The accounts the test bank shows ``login`` in Powens' pages, as its holder knows them
    from the bank's own statements (checking, savings, card)."""
    return discover_accounts(SandboxConfig.seed, autopilot.DEFAULT_BANK, login, DISCOVERED_ACCOUNTS)


@tagged("post_install", "-at_install")
class TestPowensFirstConnection(PowensSandboxMixin, HttpCase):
    """Issue 16 §4: a bank added with its IBAN is linked to its account at Powens by itself,
    comes back on its POWENS tab, and the other accounts shared become banks in one step."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.chf = cls.env.ref("base.CHF")
        cls.chf.active = True
        cls.checking, cls.savings, cls.card = bank_accounts_of("alice")

    def add_bank(self, name, acc_number=False, currency=None, user=None):
        """ "Ajouter une banque" in the referential, as ``user`` fills the dialog."""
        user = user or self.setup_user
        action = self.company.with_user(user).action_add_bank()
        form = Form(self.env[action["res_model"]].with_user(user).with_context(**action["context"]))
        form.name = name
        if acc_number:
            form.acc_number = acc_number
        if currency:
            form.currency_id = currency
        form.save().action_save()
        return self.env["account.journal"].search([("company_id", "=", self.company.id), ("name", "=", name)])

    def connect(self, journal, accounts=None):
        """The holder goes through Powens' webview and comes back: returns the callback's answer."""
        url = self.start_webview(journal)
        callback = WebviewDriver(self.sandbox.webview_url).connect(url, accounts=accounts)
        self.authenticate("powens_setup", "powens_setup")
        return self.url_open(callback[len(journal.get_base_url()) :], allow_redirects=False)

    # --- "Ajouter une banque" ---------------------------------------------------------------

    def test_a_wrong_iban_is_refused_and_no_bank_is_added(self):
        wrong = self.checking.iban[:-1] + str((int(self.checking.iban[-1]) + 1) % 10)
        with self.assertRaisesRegex(ValidationError, "not a valid IBAN"):
            self.add_bank("Banque mal saisie", wrong)
        with self.assertRaisesRegex(ValidationError, "not a valid IBAN"):
            self.add_bank("Banque mal saisie", "FR76 1234")
        self.assertFalse(self.env["account.journal"].search([("name", "=", "Banque mal saisie")]))

    def test_the_iban_and_currency_given_become_the_banks_as_odoo_keeps_them(self):
        self.assertNotEqual(self.company.currency_id, self.chf)
        spaced = " ".join(self.checking.iban[i : i + 4] for i in range(0, len(self.checking.iban), 4)).lower()
        bank = self.add_bank("Banque en francs suisses", spaced, currency=self.chf)
        self.assertEqual(bank.bank_acc_number, self.checking.iban)
        self.assertEqual(bank.bank_account_id.partner_id, self.company.partner_id)
        self.assertEqual(bank.currency_id, self.chf)
        in_company_currency = self.add_bank("Banque dans la devise de la société", self.savings.iban)
        self.assertFalse(in_company_currency.currency_id, "the company's currency is the journal's own default")
        self.assertEqual(in_company_currency.bank_acc_number, self.savings.iban)

    def test_another_companys_id_in_the_dialog_is_refused_before_anything_is_read_back(self):
        """Security audit F5: the dialog's company is readonly on screen only; a web_save with
        another company's id must neither show that company's name nor add a bank in it."""
        other = self.env["res.company"].create({"name": "Société voisine confidentielle"})
        Wizard = self.env["account.referential.bank.wizard"].with_user(self.setup_user)
        with self.assertRaises(AccessError):
            Wizard.web_save(
                {"company_id": other.id, "name": "Intrusion"},
                specification={"company_id": {"fields": {"display_name": {}}}, "name": {}},
            )
        wizard = Wizard.create({"company_id": self.company.id, "name": "Intrusion"})
        with self.assertRaises(AccessError):
            wizard.write({"company_id": other.id})
        self.assertFalse(
            self.env["account.journal"].search([("company_id", "=", other.id), ("name", "=", "Intrusion")])
        )

    # --- Back from Powens ------------------------------------------------------------------

    def test_the_account_with_the_banks_iban_is_linked_without_a_choice(self):
        bank = self.add_bank("Crédit de test - compte courant", self.checking.iban)
        response = self.connect(bank, accounts=[0, 1])
        self.assertEqual(response.status_code, 303)
        self.assertEqual((bank.powens_state, bank.powens_account_id.iban), ("waiting", self.checking.iban))
        self.assertFalse(bank.powens_account_choice_ids)

    def test_the_callback_opens_the_bank_on_its_powens_tab(self):
        response = self.connect(self.bank, accounts=[0])
        self.assertTrue(response.headers["Location"].endswith(f"/odoo/powens-bank?journal_id={self.bank.id}"))
        self.assertEqual(self.bank.powens_account_choice_ids.iban, self.checking.iban)
        bank_form, choice = self.bank.with_user(self.setup_user).action_powens_back_from_webview()
        self.assertEqual((bank_form["res_model"], bank_form["res_id"]), ("account.journal", self.bank.id))
        view_id = bank_form["views"][0][0]
        arch = self.env["account.journal"].with_user(self.setup_user).get_views([(view_id, "form")])["views"]["form"]
        self.assertRegex(arch["arch"], r'<page[^>]*name="powens"[^>]*autofocus="autofocus"')
        self.assertEqual((choice["res_model"], choice["target"]), ("powens.account.link.wizard", "new"))
        self.assertEqual(choice["context"]["default_journal_id"], self.bank.id, "the choice opens at once")
        with self.assertRaises(AccessError):
            self.bank.with_user(self.accountant).action_powens_back_from_webview()

    def test_the_callback_reads_each_connection_and_its_accounts_in_one_request(self):
        url = self.start_webview(self.bank)
        callback = WebviewDriver(self.sandbox.webview_url).connect(url)
        self.sandbox.control("DELETE", "/_sandbox/calls")
        self.authenticate("powens_setup", "powens_setup")
        self.url_open(callback[len(self.bank.get_base_url()) :], allow_redirects=False)
        connection = self.bank.powens_connection_id
        self.assertEqual(len(connection.account_ids), 3)
        calls = [(call["method"], call["path"]) for call in self.sandbox.control("GET", "/_sandbox/calls")]
        self.assertEqual(calls, [("GET", f"/2.0/users/me/connections/{connection.powens_id}")])

    # --- The other shared accounts ----------------------------------------------------------

    def test_the_other_shared_accounts_become_connected_banks_in_one_step(self):
        bank = self.add_bank("Crédit de test - compte courant", self.checking.iban)
        self.connect(bank)
        connection = bank.powens_connection_id
        savings = connection.account_ids.filtered(lambda account: account.iban == self.savings.iban)
        card = connection.account_ids.filtered(lambda account: not account.iban)
        # As Powens would list a savings account held in Swiss francs.
        savings.currency_id = self.chf
        self.assertEqual(bank.powens_other_account_ids, savings | card)
        offer = bank.with_user(self.setup_user).action_powens_back_from_webview()[1]
        self.assertEqual(offer["res_model"], "powens.account.add.banks.wizard", "offered at once")
        wizard = self.env[offer["res_model"]].with_user(self.setup_user).with_context(**offer["context"]).create({})
        self.assertEqual(wizard.account_ids, savings | card, "all of them ticked")
        wizard.action_add_banks()
        added = self.company.bank_journal_ids.filtered(lambda journal: journal.powens_account_id in savings | card)
        self.assertEqual(len(added), 2)
        savings_bank = added.filtered(lambda journal: journal.powens_account_id == savings)
        self.assertEqual(
            (savings_bank.name, savings_bank.bank_acc_number, savings_bank.currency_id),
            (self.savings.name, self.savings.iban, self.chf),
        )
        card_bank = added - savings_bank
        card_currency = card.currency_id if card.currency_id != self.company.currency_id else self.env["res.currency"]
        self.assertEqual(
            (card_bank.name, card_bank.bank_acc_number, card_bank.currency_id), (self.card.name, False, card_currency)
        )
        for journal in added:
            self.assertEqual((journal.powens_state, journal.powens_connection_id), ("waiting", connection))
        self.assertFalse(bank.powens_other_account_ids)
        self.assertEqual(
            len(bank.with_user(self.setup_user).action_powens_back_from_webview()), 1, "nothing left to offer"
        )

    def test_choosing_the_account_then_offers_the_others(self):
        self.connect(self.bank, accounts=[0, 1])
        Wizard = self.env["powens.account.link.wizard"].with_user(self.setup_user)
        choices = self.bank.powens_account_choice_ids
        wizard = Wizard.with_context(default_journal_id=self.bank.id).create({"account_id": choices[0].id})
        offer = wizard.action_link()
        self.assertEqual(offer["res_model"], "powens.account.add.banks.wizard")
        self.assertEqual(self.bank.powens_other_account_ids, choices[1])

    def test_adding_the_other_accounts_is_refused_without_the_right(self):
        self.connect(self.bank)
        self.bank._powens_link_account(self.bank.powens_account_choice_ids[0])
        wizard = self.env["powens.account.add.banks.wizard"].create({"journal_id": self.bank.id})
        with self.assertRaises(AccessError):
            wizard.with_user(self.accountant).action_add_banks()
        with self.assertRaises(AccessError):
            self.bank.with_user(self.accountant).action_powens_add_other_banks()
        self.assertEqual(len(self.company.bank_journal_ids.filtered("powens_account_id")), 1)

    def test_another_companys_account_cannot_be_added_as_a_bank(self):
        self.connect(self.bank)
        self.bank._powens_link_account(self.bank.powens_account_choice_ids[0])
        other = self.env["res.company"].create({"name": "Société voisine"})
        self.configure_powens(other)
        other_bank = self.env["account.journal"].create(
            {"name": "Banque voisine", "type": "bank", "company_id": other.id}
        )
        foreign = self.connect_at_powens(other_bank, accounts=2).account_ids[0]
        self.setup_user.company_ids |= other
        Wizard = self.env["powens.account.add.banks.wizard"].with_user(self.setup_user)
        with self.assertRaises(UserError):
            Wizard.create({"journal_id": self.bank.id, "account_ids": [(6, 0, foreign.ids)]})
        wizard = Wizard.create({"journal_id": self.bank.id})
        with self.assertRaises(UserError):
            wizard.write({"account_ids": [(4, foreign.id)]})
        self.assertFalse(foreign.journal_ids)
