"""Issue 13 §3, another company's bank account, balance and movements, tried as an attacker
would: two companies, each with a bank connected through the sandbox, and an accounting
administrator of company 1 only, calling the server over JSON-RPC as the web client does."""

import itertools

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import HttpCase, JsonRpcException, tagged

from ..const import WEBHOOK_ROUTE
from .common import new_user, transactions_of
from .test_powens_webhook import WebhookCaseMixin

_delivery_ids = itertools.count(13_300_001)
# The stored Powens fields of a bank, which the add-on's flows set and the form shows read-only.
FLOW_FIELDS = (
    "powens_account_id",
    "powens_connection_id",
    "powens_last_sync_at",
    "powens_message",
    "powens_state",
    "powens_sync_started_at",
)


@tagged("post_install", "-at_install")
class TestPowensAttacksCompany(WebhookCaseMixin, HttpCase):
    """Company 1: ``bank`` fed by its account, ``choosing_bank`` connected with accounts to
    choose from, ``target`` not connected. Company 2: ``bank_2`` fed by ``account_2``, and
    ``loose_account_2`` enabled but feeding no bank (the review's X2)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_2 = cls.env["res.company"].create({"name": "INGENEO Filiale 2"})
        cls.configure_powens(cls.company_2)
        cls.bank_2 = cls.env["account.journal"].create(
            {"name": "Banque filiale 2", "type": "bank", "company_id": cls.company_2.id}
        )
        cls.connection_2 = cls.connect_at_powens(cls.bank_2, accounts=2)
        cls.account_2, cls.loose_account_2 = cls.connection_2.account_ids
        cls.bank_2._powens_link_account(cls.account_2)
        cls.loose_account_2.sudo().enabled = True
        cls.client_2 = cls.bank_2._powens_client()
        cls.sandbox.control("POST", f"/_sandbox/accounts/{cls.loose_account_2.powens_id}/transactions", {"count": 3})

        cls.choosing_bank = cls.env["account.journal"].create(
            {"name": "Banque à choisir", "type": "bank", "company_id": cls.company.id}
        )
        cls.choosing_connection = cls.connect_at_powens(cls.choosing_bank, accounts=2)
        cls.other_bank = cls.env["account.journal"].create(
            {"name": "Autre banque", "type": "bank", "company_id": cls.company.id}
        )
        cls.other_connection = cls.connect_at_powens(cls.other_bank, accounts=2)
        cls.target = cls.env["account.journal"].create(
            {"name": "Banque visée", "type": "bank", "company_id": cls.company.id}
        )

        company_1 = {"company_id": cls.company.id, "company_ids": [cls.company.id]}
        new_user(
            cls.env,
            login="powens_manager_1",
            password="powens_manager_1",
            groups="base.group_user,account.group_account_manager",
            **company_1,
        )
        new_user(
            cls.env,
            login="powens_billing_1",
            password="powens_billing_1",
            groups="base.group_user,account.group_account_invoice",
            **company_1,
        )

    def call(self, login, model, method, *args, **kwargs):
        """``model.method(*args, **kwargs)`` over JSON-RPC as ``login``, as the web client calls it."""
        self.authenticate(login, login)
        result = self.make_jsonrpc_request(
            f"/web/dataset/call_kw/{model}/{method}",
            {"model": model, "method": method, "args": list(args), "kwargs": kwargs},
        )
        self.env.invalidate_all()  # the request wrote through this test's own transaction
        return result

    def assertRefused(self, error_class, login, model, method, *args, **kwargs):
        with self.assertRaises(JsonRpcException) as refusal:
            self.call(login, model, method, *args, **kwargs)
        self.assertEqual(str(refusal.exception), f"odoo.exceptions.{error_class.__name__}")

    def assertNoFullIban(self, text, account):
        self.assertNotIn(account.iban, str(text))

    # --- the review's attack: link company 2's account to a company-1 bank -------------------

    def test_rpc_link_of_another_companys_account_is_refused(self):
        """The administrator of company 1 writes company 2's loose account on a company-1 bank,
        then reads the bank: refused, and nothing of company 2 comes back."""
        self.assertRefused(
            AccessError,
            "powens_manager_1",
            "account.journal",
            "write",
            [self.target.id],
            {"powens_account_id": self.loose_account_2.id},
        )
        self.assertRefused(
            AccessError,
            "powens_manager_1",
            "account.journal",
            "write",
            [self.target.id],
            {"powens_account_id": self.loose_account_2.id, "powens_connection_id": self.connection_2.id},
        )
        values = self.call(
            "powens_manager_1",
            "account.journal",
            "read",
            [self.target.id],
            ["powens_account_id", "powens_connection_id", "powens_balance"],
        )[0]
        self.assertEqual(
            (values["powens_account_id"], values["powens_connection_id"], values["powens_balance"]), (False, False, 0.0)
        )
        self.assertFalse(self.loose_account_2.journal_ids, "company 2 can still link its account")
        self.assertRefused(
            AccessError, "powens_manager_1", "powens.account", "read", [self.loose_account_2.id], ["iban", "balance"]
        )

    def test_even_the_addons_own_code_cannot_link_another_companys_account(self):
        """The company check holds as superuser too: a bank, its Powens account and its
        connection are always of one company."""
        for values in (
            {"powens_account_id": self.loose_account_2.id},
            {"powens_connection_id": self.connection_2.id},
            {"powens_account_id": self.loose_account_2.id, "powens_connection_id": self.connection_2.id},
        ):
            with self.subTest(values=values), self.assertRaises(UserError):
                self.target.sudo().write(values)
        with self.assertRaises(UserError):
            self.env["account.journal"].sudo().create(
                {
                    "name": "Banque croisée",
                    "type": "bank",
                    "company_id": self.company.id,
                    "powens_connection_id": self.connection_2.id,
                }
            )

    def test_direct_writes_of_a_banks_powens_fields_are_refused(self):
        """Every Powens field of a bank, written or created directly, by the administrator of
        the accounting or the system administrator, even with the bank's own values."""
        own_values = self.bank._convert_to_write({name: self.bank[name] for name in FLOW_FIELDS})
        for login in ("powens_manager_1", "admin"):
            for name in FLOW_FIELDS:
                with self.subTest(login=login, field=name):
                    self.assertRefused(
                        AccessError, login, "account.journal", "write", [self.bank.id], {name: own_values[name]}
                    )
            with self.subTest(login=login, create="values"):
                self.assertRefused(
                    AccessError,
                    login,
                    "account.journal",
                    "create",
                    {"name": "Banque créée", "type": "bank", "powens_state": "connected"},
                )
            with self.subTest(login=login, create="context default"):
                self.assertRefused(
                    AccessError,
                    login,
                    "account.journal",
                    "create",
                    {"name": "Banque créée", "type": "bank"},
                    context={"default_powens_state": "connected"},
                )
        self.assertEqual(self.bank.powens_state, "waiting")

    def test_accounting_administrator_still_renames_a_connected_bank_from_its_form(self):
        """The journal form saves what the user typed, never the read-only Powens fields: the
        administrator renames a connected bank, in Chromium, and the link stays."""
        account, connection = self.bank.powens_account_id, self.bank.powens_connection_id
        self.start_tour(
            f"/odoo/action-account.action_account_journal_form/{self.bank.id}",
            "ingeneo_powens_rename_connected_bank",
            login="powens_manager_1",
        )
        self.assertEqual(self.bank.name, "Banque renommée")
        self.assertEqual(
            (self.bank.powens_account_id, self.bank.powens_connection_id, self.bank.powens_state),
            (account, connection, "waiting"),
        )

    # --- notifications ------------------------------------------------------------------------

    def slip_loose_account_into_target(self):
        """Link company 2's loose account to the company-1 target by SQL, as if it had got
        through before the company check existed."""
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE account_journal SET powens_account_id = %s, powens_connection_id = %s, powens_state = 'connected'"
            " WHERE id = %s",
            [self.loose_account_2.id, self.connection_2.id, self.target.id],
        )
        self.env.invalidate_all()

    def loose_account_data(self):
        """Company 2's loose account as Powens notifies it, with its new movements."""
        transactions = [
            item for item in transactions_of(self.client_2, self.loose_account_2.powens_id) if not item["coming"]
        ]
        self.assertTrue(transactions)
        account = next(
            item
            for item in self.client_2.list_accounts(self.connection_2.powens_id)
            if item["id"] == self.loose_account_2.powens_id
        )
        self.assertEqual(account["id_user"], self.connection_2.user_id.powens_id)
        return dict(account, transactions=transactions)

    def target_lines(self):
        return self.env["account.bank.statement.line"].search([("journal_id", "=", self.target.id)])

    def test_company_2_account_synced_imports_nothing_into_company_1(self):
        self.slip_loose_account_into_target()
        payload = dict(self.loose_account_data(), id_webhook_data=next(_delivery_ids))
        self.assertAnswer(self.post(payload, path=f"{WEBHOOK_ROUTE}/account_synced"), 200)
        self.assertFalse(self.target_lines())
        self.assertFalse(self.env["powens.sync.log"].search([("journal_id", "=", self.target.id)]))

    def test_company_2_connection_synced_imports_nothing_into_company_1(self):
        self.slip_loose_account_into_target()
        connection = self.client_2.get_connection(self.connection_2.powens_id, expand=("connector", "sources"))
        connection["accounts"] = [self.loose_account_data()]
        payload = {
            "id_webhook_data": next(_delivery_ids),
            "connection": connection,
            "user": {"id": self.connection_2.user_id.powens_id, "signin": "2025-01-10 16:01:58"},
        }
        self.assertAnswer(self.post(payload), 200)
        self.assertFalse(self.target_lines())
        self.assertFalse(
            self.env["powens.sync.log"].search([("journal_id", "=", self.target.id)]),
            "company 1's bank is not even touched",
        )
        event = self.env["powens.webhook.event"].search([("company_id", "=", self.company_2.id)])
        self.assertEqual(event.connection_id, self.connection_2, "company 2's own bank is processed")

    # --- "Choose the bank account" ------------------------------------------------------------

    def link_values(self, account):
        return {"journal_id": self.choosing_bank.id, "account_id": account.id}

    def test_link_wizard_accepts_only_the_banks_own_connection(self):
        """Created, written or run over RPC: an account of another connection of the company,
        or of another company, is refused; one of the bank's own connection is linked."""
        foreign = {"another connection": self.other_connection.account_ids[0], "another company": self.loose_account_2}
        for case, account in foreign.items():
            with self.subTest(case=case):
                self.assertRefused(
                    ValidationError, "powens_setup", "powens.account.link.wizard", "create", self.link_values(account)
                )
        own = self.choosing_connection.account_ids[0]
        wizard_id = self.call("powens_setup", "powens.account.link.wizard", "create", self.link_values(own))
        for case, account in foreign.items():
            with self.subTest(case=case, method="write"):
                self.assertRefused(
                    ValidationError,
                    "powens_setup",
                    "powens.account.link.wizard",
                    "write",
                    [wizard_id],
                    {"account_id": account.id},
                )
        self.call("powens_setup", "powens.account.link.wizard", "action_link", [wizard_id])
        self.assertEqual(self.choosing_bank.powens_account_id, own)

    def test_link_wizard_web_save_never_returns_another_companys_iban(self):
        """The review's probe: web_save of the dialog with any account id and a display_name
        specification. Another company's account is refused before anything is read back;
        the bank's own account comes back with its IBAN masked."""
        specification = {"account_id": {"fields": {"display_name": {}}}}
        for account in (self.loose_account_2, self.account_2, self.other_connection.account_ids[0]):
            with self.subTest(account=account.name, company=account.company_id.name):
                self.assertRefused(
                    ValidationError,
                    "powens_setup",
                    "powens.account.link.wizard",
                    "web_save",
                    [],
                    self.link_values(account),
                    specification=specification,
                )
        own = self.choosing_connection.account_ids.filtered("iban")[0]
        saved = self.call(
            "powens_setup",
            "powens.account.link.wizard",
            "web_save",
            [],
            self.link_values(own),
            specification=specification,
        )
        display_name = saved[0]["account_id"]["display_name"]
        self.assertNoFullIban(display_name, own)
        self.assertEqual(display_name, f"{own.name} (…{own.iban[-4:]})")

    # --- what a reader of the journal sees ------------------------------------------------------

    def test_journal_readers_see_neither_full_iban_nor_balance(self):
        """A Billing user reads the bank (their journal) but not its Powens account: the
        account's name with a masked IBAN, no balance. The holder reads both on the account."""
        account = self.bank.powens_account_id
        self.assertTrue(account.iban and account.balance)
        values = self.call("powens_billing_1", "account.journal", "read", [self.bank.id], ["powens_account_id"])[0]
        self.assertEqual(values["powens_account_id"][0], account.id)
        self.assertNoFullIban(values, account)
        self.assertTrue(values["powens_account_id"][1].endswith(f"{account.iban[-4:]})"))
        for field_name in ("powens_balance", "powens_balance_currency_id", "powens_balance_difference"):
            with self.subTest(field=field_name):
                self.assertRefused(
                    AccessError, "powens_billing_1", "account.journal", "read", [self.bank.id], [field_name]
                )
        holder_view = self.call("powens_setup", "powens.account", "read", [account.id], ["iban", "balance"])[0]
        self.assertEqual((holder_view["iban"], holder_view["balance"]), (account.iban, account.balance))
        self.assertEqual(
            self.call("powens_setup", "account.journal", "read", [self.bank.id], ["powens_balance"])[0][
                "powens_balance"
            ],
            account.balance,
        )

    def test_consent_dialog_saved_with_another_companys_bank_shows_nothing_of_it(self):
        """The consent dialog saved over RPC with company 2's bank (security review F5): a
        many2one's name is read as superuser, so the dialog must refuse the bank itself."""
        specification = {"journal_id": {"fields": {"display_name": {}}}}
        with self.assertRaises(JsonRpcException) as refusal:
            self.call(
                "powens_setup",
                "powens.consent.wizard",
                "web_save",
                [],
                {"journal_id": self.bank_2.id, "flow": "connect"},
                specification=specification,
            )
        self.assertEqual(str(refusal.exception), "odoo.exceptions.AccessError")
        self.assertFalse(self.env["powens.consent.wizard"].search([("journal_id", "=", self.bank_2.id)]))
        own = self.call(
            "powens_setup",
            "powens.consent.wizard",
            "web_save",
            [],
            {"journal_id": self.target.id, "flow": "connect"},
            specification=specification,
        )[0]
        self.assertEqual(own["journal_id"]["display_name"], self.target.display_name, "its own bank still opens")
        self.assertRefused(
            AccessError,
            "powens_setup",
            "powens.consent.wizard",
            "write",
            [own["id"]],
            {"journal_id": self.bank_2.id},
        )
