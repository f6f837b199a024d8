"""Issue 17 §1: one Powens contract for the database, set once by a system administrator in the
Settings and used by every company carrying none of its own; a company's own contract wins as a
whole. Every guard of issue 13 holds for it: administrators only, Powens' hosts only, tokens
forgotten when its Powens changes, changes noted without values, secrets never read back. Its
webhook secret signs for the companies using it, and for them only."""

import json

from odoo.exceptions import AccessError, UserError
from odoo.tests import HttpCase, TransactionCase, tagged
from odoo.tools import file_open, mute_logger

from ..const import SETUP_GROUP
from ..powens.signature import sign_webhook
from .common import PowensSandboxMixin, new_user
from .test_powens_webhook import WEBHOOK, WebhookCaseMixin, _delivery_ids, signature_date

DATABASE_COLUMNS = (
    "powens_domain",
    "powens_client_id",
    "powens_api_url",
    "powens_webview_url",
    "powens_client_secret_encrypted",
    "powens_webhook_secret_encrypted",
)
CONTROLLER_LOGGER = "odoo.addons.ingeneo_powens.controllers.main"


@tagged("post_install", "-at_install")
class TestPowensDatabaseContract(PowensSandboxMixin, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.contract = cls.configure_database_contract()
        cls.admin = new_user(
            cls.env,
            login="powens_contract_admin",
            groups=f"base.group_system,account.group_account_user,{SETUP_GROUP}",
            company_id=cls.company.id,
            company_ids=[cls.company.id],
        )
        # May save the Settings (Odoo lets "Access Rights" administrators), and holds the right.
        cls.rights_admin = new_user(
            cls.env,
            login="powens_rights_admin",
            groups=f"base.group_erp_manager,account.group_account_user,{SETUP_GROUP}",
            company_id=cls.company.id,
            company_ids=[cls.company.id],
        )

    def stored(self):
        """The database's contract as PostgreSQL holds it."""
        self.env.flush_all()
        self.env.cr.execute(
            f"SELECT {', '.join(DATABASE_COLUMNS)} FROM powens_contract WHERE id = %s", [self.contract.id]
        )
        return dict(zip(DATABASE_COLUMNS, self.env.cr.fetchone(), strict=True))

    def powens_calls(self):
        """The calls the sandbox received on its Powens API."""
        return [call for call in self.sandbox.control("GET", "/_sandbox/calls") if call["path"].startswith("/2.0")]

    def new_company(self, name):
        company = self.env["res.company"].create({"name": name})
        self.admin.company_ids |= company
        self.setup_user.company_ids |= company
        return company

    # --- inheritance and override ---------------------------------------------------------------

    def test_a_company_without_contract_uses_the_databases(self):
        """Client, connection test and webview of a company with no contract of its own all go
        by the database's contract."""
        self.assertEqual(self.company.powens_contract_source, "database")
        self.assertEqual(self.company._powens_contract(), self.contract)
        self.assertFalse(any(self.company.sudo()[column] for column in DATABASE_COLUMNS))
        client = self.company._powens_client()
        self.assertEqual((client.api_url, client.client_id), (self.sandbox.api_url + "/", self.sandbox.client_id))
        action = self.company.with_user(self.setup_user).action_powens_test_connection()
        self.assertEqual(action["params"]["type"], "success")
        url = self.start_webview(self.bank)
        self.assertTrue(url.startswith(self.sandbox.webview_url), url)
        self.assertIn(f"client_id={self.sandbox.client_id}", url)
        bank_user = self.env["powens.user"].search([("journal_id", "=", self.bank.id)])
        self.assertEqual(bank_user.api_url, self.sandbox.api_url, "its token is bound to the database's Powens")

    def test_a_company_contract_wins_as_a_whole(self):
        """A company's own contract replaces the database's entirely: one field of its own is
        never completed with the database's others."""
        company = self.new_company("Filiale au contrat propre")
        company.with_user(self.admin).powens_client_id = "999"
        self.assertEqual(company.powens_contract_source, "company")
        self.assertEqual(company._powens_contract(), company)
        with self.assertRaises(UserError) as refusal:
            company._powens_client()
        self.assertIn("not configured", str(refusal.exception))
        self.configure_powens(company)
        company.with_user(self.admin).powens_client_secret = "a-secret-of-its-own"
        with self.assertRaises(UserError) as refusal:
            company.with_user(self.setup_user).action_powens_test_connection()
        self.assertIn("Powens refused the connection test", str(refusal.exception))
        action = self.company.with_user(self.setup_user).action_powens_test_connection()
        self.assertEqual(action["params"]["type"], "success", "the database's contract still works")
        company.with_user(self.admin).action_powens_use_database_contract()
        self.assertEqual(company.powens_contract_source, "database")
        self.assertEqual(
            company.with_user(self.setup_user).action_powens_test_connection()["params"]["type"], "success"
        )

    def test_the_company_form_says_which_contract_it_uses(self):
        company = self.new_company("Filiale")
        self.assertEqual(company.with_user(self.setup_user).powens_contract_source, "database")
        self.assertEqual(company.with_user(self.setup_user).powens_database_contract_id, self.contract)
        self.configure_powens(company)
        self.assertEqual(company.powens_contract_source, "company")
        self.assertFalse(company.powens_database_contract_id)
        labels = dict(self.env["res.company"]._fields["powens_contract_source"]._description_selection(self.env))
        self.assertEqual(labels, {"database": "Database contract", "company": "Own contract of the company"})

    # --- who changes it --------------------------------------------------------------------------

    def test_only_a_system_administrator_changes_the_database_contract(self):
        """The holder of the right, and an "Access Rights" administrator who may save the
        Settings, are refused on every field, directly and through the Settings; nothing is
        stored. The system administrator may."""
        before = self.stored()
        attempts = {
            "powens_domain": "attacker",
            "powens_client_id": "666",
            "powens_api_url": "https://attacker.biapi.pro/2.0",
            "powens_webview_url": "https://webview.powens.com",
            "powens_client_secret": "holder-chosen-client-secret",
            "powens_webhook_secret": "holder-chosen-webhook-secret",
        }
        for user in (self.setup_user, self.rights_admin):
            for field_name, value in attempts.items():
                with self.subTest(user=user.login, field=field_name):
                    with self.assertRaises(AccessError):
                        self.contract.with_user(user).write({field_name: value})
                    with self.assertRaises(AccessError):
                        self.env["res.config.settings"].with_user(user).create({field_name: value}).execute()
        with self.assertRaises(AccessError):
            self.contract.with_user(self.setup_user).create({"name": "A second contract"})
        self.assertEqual(self.stored(), before)
        self.env["res.config.settings"].with_user(self.admin).create({"powens_client_id": "4242"}).execute()
        self.assertEqual(self.stored()["powens_client_id"], "4242")

    def test_changes_are_noted_on_the_contract_without_values(self):
        """Who changed which setting and when: in the contract's chatter (the Settings'
        "History of the contract"), never a value."""
        self.contract.message_ids.unlink()
        settings = self.env["res.config.settings"].with_user(self.admin)
        settings.create({"powens_client_id": "4242", "powens_webhook_secret": "a-new-webhook-secret-value"}).execute()
        notes = self.contract.message_ids
        self.assertEqual(len(notes), 1, "one save, one note")
        self.assertEqual(notes.author_id, self.admin.partner_id)
        bodies = notes.body
        self.assertIn("Powens client ID", bodies)
        self.assertIn("Powens webhook secret", bodies)
        self.assertNotIn("4242", bodies)
        self.assertNotIn("a-new-webhook-secret-value", bodies)
        history = settings.create({}).action_powens_contract_history()
        self.assertEqual((history["res_model"], history["res_id"]), ("powens.contract", self.contract.id))
        with self.assertRaises(AccessError):
            self.env["res.config.settings"].with_user(self.rights_admin).create({}).action_powens_contract_history()

    def test_secrets_are_never_read_back(self):
        """Encrypted at rest, and no reader gets them back: the form tells only that one is set."""
        stored = self.stored()
        for column, clear in (
            ("powens_client_secret_encrypted", self.sandbox.client_secret),
            ("powens_webhook_secret_encrypted", self.sandbox.webhook_secret),
        ):
            self.assertTrue(stored[column])
            self.assertNotIn(clear, stored[column])
        for user in (self.admin, self.setup_user):
            with self.subTest(user=user.login):
                values = self.contract.with_user(user).read(
                    [
                        "powens_client_secret",
                        "powens_webhook_secret",
                        "powens_client_secret_set",
                        "powens_webhook_secret_set",
                    ]
                )[0]
                self.assertEqual(
                    [values[name] for name in ("powens_client_secret", "powens_webhook_secret")], [False, False]
                )
                self.assertTrue(values["powens_client_secret_set"] and values["powens_webhook_secret_set"])
        settings = self.env["res.config.settings"].with_user(self.admin).create({})
        self.assertEqual((settings.powens_client_secret, settings.powens_webhook_secret), (False, False))
        with self.assertRaises(AccessError):
            self.contract.with_user(self.setup_user).read(["powens_client_secret_encrypted"])

    def test_a_copied_database_forgets_the_databases_secrets(self):
        """neutralize.sql: a staging copy cannot talk to Powens with the database's contract."""
        with file_open("ingeneo_powens/data/neutralize.sql") as neutralize:
            self.env.cr.execute(neutralize.read())
        self.env.invalidate_all()
        stored = self.stored()
        self.assertEqual(
            (stored["powens_client_secret_encrypted"], stored["powens_webhook_secret_encrypted"]), (None, None)
        )
        with self.assertRaises(UserError) as refusal:
            self.company._powens_client()
        self.assertIn("not configured", str(refusal.exception))

    # --- where it sends requests and browsers ------------------------------------------------------

    def test_hosts_outside_powens_are_refused(self):
        """Typed by the administrator: refused. Written in the database: nothing leaves for it."""
        before = self.stored()
        for values in (
            {"powens_api_url": "https://attacker.example/2.0"},
            {"powens_api_url": "https://ingeneo.biapi.pro@attacker.example/2.0"},
            {"powens_webview_url": "https://webview.powens.com.attacker.example"},
            {"powens_domain": "attacker.example"},
        ):
            with self.subTest(values=values), self.assertRaises(UserError) as refusal:
                self.contract.with_user(self.admin).write(values)
            self.assertIn("of the database is refused", str(refusal.exception))
        self.assertEqual(self.stored(), before)
        self.env.cr.execute(
            "UPDATE powens_contract SET powens_api_url = %s, powens_webview_url = %s WHERE id = %s",
            ["http://127.0.0.2:8070/2.0", "http://127.0.0.2:8070", self.contract.id],
        )
        self.env.invalidate_all()
        self.sandbox.control("DELETE", "/_sandbox/calls")
        for attempt in (
            self.company.with_user(self.setup_user).action_powens_test_connection,
            lambda: self.start_webview(self.bank),
        ):
            with self.assertRaises(UserError) as refusal:
                attempt()
            self.assertIn("of the database is refused", str(refusal.exception))
        self.assertEqual(self.powens_calls(), [])

    # --- tokens bound to the Powens that issued them ---------------------------------------------------

    def test_a_new_domain_forgets_the_tokens_of_every_company_using_it(self):
        """Each company on the database's contract loses its Powens users (a note on each),
        a company on its own contract keeps its own."""
        second = self.new_company("Seconde société")
        own = self.new_company("Société au contrat propre")
        self.configure_powens(own)
        banks = {
            company: self.env["account.journal"].create({"name": "Banque", "type": "bank", "company_id": company.id})
            for company in (second, own)
        }
        banks[self.company] = self.bank
        for company, bank in banks.items():
            self.connect_at_powens(bank, accounts=1)
            self.assertTrue(company.sudo().powens_user_ids.token_encrypted)
        self.contract.with_user(self.admin).write({"powens_domain": "ingeneo"})
        self.assertEqual(self.contract.powens_api_url, "https://ingeneo.biapi.pro/2.0")
        for company in (self.company, second):
            with self.subTest(company=company.name):
                users = company.sudo().with_context(active_test=False).powens_user_ids
                self.assertEqual(users.mapped("active"), [False])
                self.assertFalse(users.token_encrypted)
                self.assertEqual(banks[company].powens_state, "disconnected")
                self.assertIn("Powens domain or API URL changed", company.message_ids[0].body)
        self.assertTrue(own.sudo().powens_user_ids.token_encrypted, "its own contract did not change")
        self.assertNotEqual(banks[own].powens_state, "disconnected")

    def test_the_webhook_secrets_are_decrypted_once_not_at_every_delivery(self):
        """Firm scale: what a delivery costs does not grow with the companies. The secrets are
        read once, then without a query until one of them changes."""
        for index in range(3):
            self.configure_powens(self.new_company(f"Société {index}"))
        Event = self.env["powens.webhook.event"].sudo()
        self.env.registry.clear_cache()
        secrets = Event._powens_webhook_secrets()
        self.assertEqual(set(secrets), {self.sandbox.webhook_secret})
        self.assertEqual(len(secrets[self.sandbox.webhook_secret]), 4, "the database's contract and 3 companies")
        with self.assertQueryCount(0):
            Event._powens_webhook_secrets()
        self.contract.with_user(self.admin).powens_webhook_secret = "the-database-renewed-its-secret"
        self.assertIn("the-database-renewed-its-secret", Event._powens_webhook_secrets())


@tagged("post_install", "-at_install")
class TestPowensDatabaseContractWebhooks(WebhookCaseMixin, HttpCase):
    """One webhook URL for the database's contract: its secret signs for the companies using it,
    each delivery reaching the company of its Powens user; a company on its own contract keeps
    its own secret."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.configure_database_contract()
        cls.company_2 = cls.env["res.company"].create({"name": "Seconde société"})
        # A company without a chart of accounts: the suspense account its lines need, alone.
        suspense = cls.env["account.account"].create(
            {
                "name": "Compte d'attente",
                "code": "471000",
                "account_type": "asset_current",
                "company_ids": cls.company_2.ids,
            }
        )
        cls.bank_2 = cls.env["account.journal"].create(
            {"name": "Banque 2", "type": "bank", "company_id": cls.company_2.id, "suspense_account_id": suspense.id}
        )
        cls.connection_2 = cls.connect_at_powens(cls.bank_2, accounts=1)
        cls.bank_2._powens_link_account(cls.connection_2.account_ids)
        cls.client_2 = cls.bank_2._powens_client()
        cls.sandbox.control(
            "POST", f"/_sandbox/accounts/{cls.connection_2.account_ids.powens_id}/transactions", {"count": 3}
        )
        cls.own = cls.env["res.company"].create({"name": "Société au contrat propre"})
        cls.configure_powens(cls.own)
        cls.own.powens_webhook_secret = "the-own-contract-webhook-secret"
        cls.env["powens.user"].create({"company_id": cls.own.id, "powens_id": 434343})

    def synced_for(self, connection, client):
        """A CONNECTION_SYNCED of ``connection`` with its account's booked movements."""
        data = client.get_connection(connection.powens_id, expand=("connector", "sources"))
        accounts = client.list_accounts(connection.powens_id)
        for account in accounts:
            pages = client.iter_transaction_pages(account["id"], include_deleted=False)
            account["transactions"] = [item for page in pages for item in page if not item["coming"]]
        data["accounts"] = accounts
        return {
            "id_webhook_data": next(_delivery_ids),
            "user": {"id": connection.user_id.powens_id, "signin": "2025-01-10 16:01:58"},
            "connection": data,
        }

    def deliver(self, payload, secret):
        body = json.dumps(payload).encode()
        date = signature_date()
        headers = {"BI-Signature-Date": date, "BI-Signature": sign_webhook(secret, WEBHOOK, date, body)}
        response = self.url_open(WEBHOOK, data=body, headers=headers)
        self.env.invalidate_all()
        return response

    def bank_lines(self, bank):
        return self.env["account.bank.statement.line"].search([("journal_id", "=", bank.id)])

    def test_each_company_on_the_database_contract_receives_its_own_deliveries(self):
        self.assertEqual({self.company.powens_contract_source, self.company_2.powens_contract_source}, {"database"})
        secret = self.sandbox.webhook_secret
        for delivered, other in ((self.bank_2, self.bank), (self.bank, self.bank_2)):
            connection = delivered.powens_connection_id
            payload = self.synced_for(connection, delivered._powens_client())
            expected = len(payload["connection"]["accounts"][0]["transactions"])
            self.assertTrue(expected)
            before = len(self.bank_lines(other))
            response = self.deliver(payload, secret)
            self.assertAnswer(response, 200)
            self.assertEqual(len(self.bank_lines(delivered)), expected)
            self.assertEqual(len(self.bank_lines(other)), before, "the other company untouched")
        events = self.env["powens.webhook.event"].search([("company_id", "in", (self.company | self.company_2).ids)])
        self.assertEqual(events.company_id, self.company | self.company_2)

    def test_a_contract_signs_for_its_own_companies_only(self):
        """The database's secret cannot sign for a company on its own contract, nor its own
        secret for a company on the database's."""
        own_payload = {
            "id_webhook_data": next(_delivery_ids),
            "user": {"id": 434343, "signin": "2025-01-10 16:01:58"},
            "connection": {"id": 99, "id_user": 434343, "accounts": []},
        }
        with mute_logger(CONTROLLER_LOGGER):
            self.assertAnswer(self.deliver(own_payload, self.sandbox.webhook_secret), 403)
            self.assertAnswer(
                self.deliver(self.synced_for(self.connection_2, self.client_2), "the-own-contract-webhook-secret"), 403
            )
        self.assertFalse(self.bank_lines(self.bank_2))
        self.assertFalse(self.env["powens.webhook.event"].search([("company_id", "=", self.own.id)]))
        self.assertAnswer(self.deliver(own_payload, "the-own-contract-webhook-secret"), 200)
        self.assertTrue(self.env["powens.webhook.event"].search([("company_id", "=", self.own.id)]))
