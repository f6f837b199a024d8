"""Issue 17 §4, the weekly digest: to each holder of the right who asked for it, the banks of
their companies that need someone, per company, with a link to the cockpit on them; nothing to
the others, and no mail at all when no bank needs anyone."""

from datetime import timedelta

from odoo import fields
from odoo.tests import TransactionCase, freeze_time, tagged

from .common import PowensSandboxMixin, new_user

REQUEST = "powens.connection.request"
COCKPIT_LINK = "/powens/cockpit?needing=1&amp;company_id="
HOLDER_GROUPS = "base.group_user,account.group_account_user,ingeneo_powens.group_accounting_setup"


@tagged("post_install", "-at_install")
class TestPowensDigest(PowensSandboxMixin, TransactionCase):
    """Company 1: ``bank`` connected and healthy, ``free_bank`` not connected. Company 2:
    ``bank_2`` connected and healthy. Each test puts the banks it needs in trouble."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.connection = cls.connect_at_powens(cls.bank, accounts=1)
        cls.bank._powens_link_account(cls.connection.account_ids)
        cls.free_bank = cls.env["account.journal"].create(
            {"name": "Banque libre", "type": "bank", "company_id": cls.company.id}
        )
        cls.company_2 = cls.env["res.company"].create({"name": "Cabinet client 2"})
        # A chart of accounts, so that its banks' movements can be booked.
        cls.env["account.chart.template"].try_loading("generic_coa", company=cls.company_2, install_demo=False)
        cls.configure_powens(cls.company_2)
        cls.bank_2 = cls.env["account.journal"].create(
            {"name": "Banque connectée 2", "type": "bank", "company_id": cls.company_2.id}
        )
        cls.connection_2 = cls.connect_at_powens(cls.bank_2, accounts=1)
        cls.bank_2._powens_link_account(cls.connection_2.account_ids)

        def user(login, groups, companies, digest=True):
            created = new_user(
                cls.env,
                login=login,
                groups=groups,
                email=f"{login}@example.com",
                company_id=companies[0].id,
                company_ids=companies.ids,
            )
            created.powens_weekly_digest = digest
            return created

        both = cls.company | cls.company_2
        cls.firm_holder = user("firm_holder", HOLDER_GROUPS, both)
        cls.holder_2 = user("holder_2", HOLDER_GROUPS, cls.company_2)
        cls.not_opted = user("not_opted", HOLDER_GROUPS, both, digest=False)
        cls.no_right = user("no_right", "base.group_user,account.group_account_user", both)
        cls.manager = new_user(cls.env, login="powens_manager", email="gerant@example.com", company_ids=cls.company.ids)

    def setUp(self):
        super().setUp()
        # The sandbox outlives each test's rolled-back transaction: healthy connections first.
        for connection in self.connection | self.connection_2:
            self.set_state(connection, None)
            self.set_consent_end(connection, days=180)

    # --- Helpers ----------------------------------------------------------------------------

    def retrieve(self, connection):
        for journal in connection.account_ids.journal_ids:
            self.env["powens.retrieval"].with_company(journal.company_id)._retrieve(journal, "cron")

    def set_state(self, connection, state):
        self.sandbox.control("POST", f"/_sandbox/connections/{connection.powens_id}/state", {"state": state})
        self.retrieve(connection)

    def set_consent_end(self, connection, days):
        end = fields.Datetime.to_string(fields.Datetime.now() + timedelta(days=days))
        self.sandbox.control("POST", f"/_sandbox/connections/{connection.powens_id}/consent", {"access_expire": end})
        self.retrieve(connection)

    def send_digest(self):
        """The weekly job's work; the digests it queued, by recipient."""
        before = self.env["mail.mail"].search([]).ids
        self.env["powens.digest"]._send_weekly_digest()
        mails = self.env["mail.mail"].search([("id", "not in", before)])
        return {mail.email_to: mail.body_html for mail in mails}

    # --- Tests ------------------------------------------------------------------------------

    def test_no_mail_when_no_bank_needs_anyone(self):
        self.assertEqual(self.send_digest(), {})

    def test_each_opted_in_holder_gets_the_banks_of_their_companies_only(self):
        self.set_state(self.connection, "SCARequired")
        self.set_consent_end(self.connection_2, days=10)
        digests = self.send_digest()
        self.assertEqual(
            set(digests),
            {"firm_holder@example.com", "holder_2@example.com"},
            "not the others, nor those without the right",
        )
        firm = digests["firm_holder@example.com"]
        self.assertIn(self.company.name, firm)
        self.assertIn(self.bank.name, firm)
        self.assertIn("Action required", firm)
        self.assertIn("Cabinet client 2", firm)
        self.assertIn("Banque connectée 2", firm)
        self.assertIn("The consent ends on", firm)
        self.assertIn(f"{COCKPIT_LINK}{self.company.id}", firm)
        self.assertIn(f"{COCKPIT_LINK}{self.company_2.id}", firm)
        holder_2 = digests["holder_2@example.com"]
        self.assertNotIn(self.bank.name, holder_2, "company 1 is not theirs")
        self.assertNotIn(f"{COCKPIT_LINK}{self.company.id}\"", holder_2)
        self.assertIn("Banque connectée 2", holder_2)

    def test_a_company_whose_banks_are_fine_is_left_out(self):
        self.set_consent_end(self.connection_2, days=10)
        firm = self.send_digest()["firm_holder@example.com"]
        self.assertNotIn(self.bank.name, firm)
        self.assertNotIn(f"{COCKPIT_LINK}{self.company.id}\"", firm)

    def test_an_error_is_listed_once_it_lasted_48_hours(self):
        self.set_state(self.connection, "notSupported")
        self.assertEqual(self.bank.powens_state, "error")
        self.assertEqual(self.send_digest(), {}, "in error for a moment only")
        with freeze_time(fields.Datetime.now() + timedelta(hours=50)):
            self.set_state(self.connection_2, "notSupported")
            firm = self.send_digest()["firm_holder@example.com"]
        self.assertIn("In error since", firm)
        self.assertIn(self.bank.name, firm)
        self.assertNotIn("Banque connectée 2", firm, "in error for a moment only")

    def test_an_expired_connection_request_is_listed_until_sent_again(self):
        with freeze_time(fields.Datetime.now() - timedelta(days=10)):
            request = (
                self.env[REQUEST]
                .with_user(self.setup_user)
                ._send(self.free_bank.with_user(self.setup_user), self.manager)
            )
        request.sudo()._close("expired", "The connection request expired without being completed.")
        firm = self.send_digest()["firm_holder@example.com"]
        self.assertIn("Banque libre", firm)
        self.assertIn("The connection request expired on", firm)
        request.with_user(self.setup_user).action_resend()
        self.assertEqual(self.send_digest(), {}, "sent again: nobody needs to look at it")

    def test_holders_choose_it_in_their_preferences(self):
        preferences = self.env.ref("base.view_users_form_simple_modif")
        for user, shown in ((self.not_opted, True), (self.manager, False)):
            arch = self.env["res.users"].with_user(user).get_view(preferences.id)["arch"]
            self.assertEqual('name="powens_weekly_digest"' in arch, shown)
        self.not_opted.with_user(self.not_opted).write({"powens_weekly_digest": True})
        self.set_state(self.connection, "SCARequired")
        self.assertIn("not_opted@example.com", self.send_digest())

    def test_the_banks_are_read_in_a_fixed_number_of_queries(self):
        def queries_to_list_the_banks():
            self.env.invalidate_all()
            before = self.env.cr.sql_log_count
            needing = self.env["powens.digest"]._banks_needing_someone(self.company | self.company_2)
            return self.env.cr.sql_log_count - before, sum(len(banks) for banks in needing.values())

        self.set_state(self.connection, "SCARequired")
        self.set_consent_end(self.connection_2, days=10)
        few_queries, few_banks = queries_to_list_the_banks()
        for index in range(2):
            bank = self.env["account.journal"].create(
                {"name": f"Banque à suivre {index}", "type": "bank", "company_id": self.company.id}
            )
            connection = self.connect_at_powens(bank, accounts=1)
            bank._powens_link_account(connection.account_ids)
            self.set_state(connection, "SCARequired")
            self.set_consent_end(connection, days=10)
        many_queries, many_banks = queries_to_list_the_banks()
        self.assertEqual(many_banks, few_banks + 2)
        self.assertEqual(many_queries, few_queries, "no query per bank")
