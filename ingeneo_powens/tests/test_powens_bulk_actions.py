"""Issue 17 §3, the bulk actions of the cockpit: each runs bank by bank through the path and
checks of one bank, reports every bank's outcome with its reason, and never stops at a refusal.
Two companies, a firm's accountant working in both, an accountant of company 1 only."""

from datetime import timedelta

from odoo import fields
from odoo.exceptions import AccessError
from odoo.tests import TransactionCase, freeze_time, tagged

from .common import PowensSandboxMixin, new_user

REQUEST = "powens.connection.request"
CONSENT_RENEWAL_ACTIVITY = "ingeneo_powens.mail_activity_type_powens_consent_renewal"


@tagged("post_install", "-at_install")
class TestPowensBulkActions(PowensSandboxMixin, TransactionCase):
    """Company 1: ``bank`` connected (``connection``), ``free_bank`` not connected, ``misc``
    not a bank. Company 2: ``free_bank_2`` not connected, ``bank_2`` connected."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.connection = cls.connect_at_powens(cls.bank, accounts=1)
        cls.connection.connected_by_id = cls.setup_user
        cls.bank._powens_link_account(cls.connection.account_ids)
        Journal = cls.env["account.journal"]
        cls.free_bank = Journal.create({"name": "Banque libre", "type": "bank", "company_id": cls.company.id})
        cls.misc = Journal.create({"name": "Opérations diverses", "type": "general", "code": "ODX"})

        cls.company_2 = cls.env["res.company"].create({"name": "Cabinet client 2"})
        # A chart of accounts, so that its banks' movements can be booked.
        cls.env["account.chart.template"].try_loading("generic_coa", company=cls.company_2, install_demo=False)
        cls.configure_powens(cls.company_2)
        cls.free_bank_2 = Journal.create({"name": "Banque libre 2", "type": "bank", "company_id": cls.company_2.id})
        cls.bank_2 = Journal.create({"name": "Banque connectée 2", "type": "bank", "company_id": cls.company_2.id})
        connection_2 = cls.connect_at_powens(cls.bank_2, accounts=1)
        cls.bank_2._powens_link_account(connection_2.account_ids)

        both = {"company_id": cls.company.id, "company_ids": [cls.company.id, cls.company_2.id]}
        cls.firm_user = new_user(
            cls.env,
            login="powens_firm",
            groups="base.group_user,account.group_account_user,ingeneo_powens.group_accounting_setup",
            **both,
        )
        cls.manager = new_user(
            cls.env,
            login="powens_manager_1",
            name="Gérant 1",
            email="gerant1@example.com",
            company_id=cls.company.id,
            company_ids=[cls.company.id],
        )
        cls.manager_2 = new_user(
            cls.env,
            login="powens_manager_2",
            name="Gérante 2",
            email="gerante2@example.com",
            company_id=cls.company_2.id,
            company_ids=[cls.company_2.id],
        )

    # --- Helpers ----------------------------------------------------------------------------

    def open_dialog(self, user, journals, action):
        """What the Actions menu of the cockpit does on the selected rows."""
        opened = self.env["powens.bulk.action"].with_user(user)._open_for(journals.with_user(user), action)
        return self.env["powens.bulk.action"].with_user(user).browse(opened["res_id"])

    def run_action(self, user, journals, action, users_by_company=None):
        """Open the dialog, choose the users per company when asked, confirm; the outcome of
        each bank as {bank name: (outcome, message)}."""
        wizard = self.open_dialog(user, journals, action)
        for line in wizard.company_line_ids:
            line.user_id = (users_by_company or {}).get(line.company_id)
        wizard.action_run()
        self.assertEqual(wizard.state, "done")
        return {result.bank_name: (result.outcome, result.message) for result in wizard.result_ids}

    def crafted_run(self, user, journal_ids, action):
        """A crafted call: the action of the Actions menu run over RPC with any ids."""
        server_action = self.env.ref(f"ingeneo_powens.action_powens_bulk_{action}")
        opened = (
            server_action.with_user(user)
            .with_context(active_model="account.journal", active_ids=journal_ids, active_id=journal_ids[0])
            .run()
        )
        wizard = self.env["powens.bulk.action"].with_user(user).browse(opened["res_id"])
        wizard.action_run()
        return {result.bank_name: (result.outcome, result.message) for result in wizard.result_ids}

    def requests_of(self, journal):
        return self.env[REQUEST].search([("journal_id", "=", journal.id)])

    def connection_request(self, journal, user):
        return self.env[REQUEST].with_user(self.setup_user)._send(journal.with_user(self.setup_user), user)

    def set_consent_end(self, connection, days):
        """The consent's end moved at Powens, then seen by a scheduled retrieval."""
        end = fields.Datetime.now() + timedelta(days=days)
        self.sandbox.control(
            "POST",
            f"/_sandbox/connections/{connection.powens_id}/consent",
            {"access_expire": fields.Datetime.to_string(end)},
        )
        for journal in connection.account_ids.journal_ids:
            self.env["powens.retrieval"].with_company(journal.company_id)._retrieve(journal, "cron")

    # --- The Actions menu ---------------------------------------------------------------------

    def test_the_actions_menu_offers_them_to_holders_of_the_right_only(self):
        names = {
            "Send connection requests",
            "Resend expired requests",
            "Synchronise now",
            "Remind to renew the consent",
        }
        for user, offered in ((self.firm_user, names), (self.accountant, set())):
            bindings = self.env["ir.actions.actions"].with_user(user).get_bindings("account.journal").get("action", [])
            self.assertEqual(names & {binding["name"] for binding in bindings}, offered)

    # --- Send connection requests -----------------------------------------------------------

    def test_send_requests_one_user_per_company_chosen_in_one_dialog(self):
        selection = self.free_bank | self.free_bank_2 | self.bank | self.misc
        wizard = self.open_dialog(self.firm_user, selection, "send_request")
        self.assertEqual(
            wizard.company_line_ids.company_id, self.company | self.company_2, "one line per company of the banks"
        )
        outcomes = self.run_action(
            self.firm_user,
            selection,
            "send_request",
            {self.company: self.manager, self.company_2: self.manager_2},
        )
        self.assertEqual(self.requests_of(self.free_bank).invited_user_id, self.manager)
        self.assertEqual(self.requests_of(self.free_bank_2).invited_user_id, self.manager_2, "its company's user")
        self.assertEqual(outcomes["Banque libre"], ("done", "Request sent to Gérant 1, at gerant1@example.com."))
        self.assertEqual(outcomes["Banque libre 2"][0], "done")
        self.assertEqual(
            outcomes[self.bank.name], ("refused", "This bank is already connected to Powens."), "the one-bank check"
        )
        self.assertEqual(
            outcomes["Opérations diverses"],
            ("refused", "Only a bank of the accounting referential can be connected to Powens."),
        )
        self.assertFalse(self.requests_of(self.bank) | self.requests_of(self.misc))

    def test_send_requests_skips_a_company_left_without_user(self):
        outcomes = self.run_action(
            self.firm_user, self.free_bank | self.free_bank_2, "send_request", {self.company: self.manager}
        )
        self.assertEqual(outcomes["Banque libre"][0], "done")
        self.assertEqual(outcomes["Banque libre 2"], ("refused", "No user was chosen for Cabinet client 2."))
        self.assertFalse(self.requests_of(self.free_bank_2))

    def test_send_requests_refuses_a_user_of_another_company(self):
        """A user of company 2 typed (over RPC) on company 1's line: the one-bank check refuses."""
        outcomes = self.run_action(self.firm_user, self.free_bank, "send_request", {self.company: self.manager_2})
        self.assertEqual(
            outcomes["Banque libre"], ("refused", f"Gérante 2 is not an internal user of {self.company.name}.")
        )
        self.assertFalse(self.requests_of(self.free_bank))

    # --- Checks common to every action ------------------------------------------------------

    def test_crafted_ids_of_another_company_are_refused_bank_by_bank(self):
        outcomes = self.crafted_run(self.setup_user, [self.bank_2.id, self.bank.id], "sync")
        self.assertEqual(
            outcomes[f"Bank #{self.bank_2.id}"],
            ("refused", "You may not act on this bank: it is not in your companies."),
            "refused, and its name not given away",
        )
        self.assertEqual(outcomes[self.bank.name][0], "done", "the other bank is run all the same")
        self.assertFalse(self.env["powens.sync.log"].search([("journal_id", "=", self.bank_2.id)]))

    def test_a_dialog_created_over_rpc_with_another_company_s_bank_is_refused(self):
        with self.assertRaises(AccessError):
            self.env["powens.bulk.action"].with_user(self.setup_user).create(
                {"action": "sync", "journal_ids": [fields.Command.set([self.bank_2.id])]}
            )

    def test_the_banks_of_every_company_of_the_user_whatever_the_switcher(self):
        """The cockpit lists every company the user works in; the switcher shows company 1."""
        dialogs = (
            self.env["powens.bulk.action"].with_user(self.firm_user).with_context(allowed_company_ids=self.company.ids)
        )
        wizard = dialogs.browse(dialogs._open_for(self.bank_2.with_env(dialogs.env), "sync")["res_id"])
        wizard.action_run()
        self.assertEqual(wizard.result_ids.mapped("outcome"), ["done"])

    def test_without_the_right_every_bank_is_refused(self):
        """The menu's actions are hidden from them and refused to them; the dialog itself,
        created over RPC, refuses each bank."""
        with self.assertRaises(AccessError):
            self.crafted_run(self.accountant, [self.bank.id], "sync")
        wizard = (
            self.env["powens.bulk.action"]
            .with_user(self.accountant)
            .create({"action": "sync", "journal_ids": [fields.Command.set([self.bank.id, self.free_bank.id])]})
        )
        wizard.action_run()
        self.assertEqual(
            {(result.bank_name, result.outcome, result.message) for result in wizard.result_ids},
            {
                (bank.name, "refused", "Only users allowed to access the accounting setup may configure Powens.")
                for bank in self.bank | self.free_bank
            },
        )
        self.assertFalse(self.env["powens.sync.log"].search([("journal_id", "=", self.bank.id)]))

    # --- Resend expired requests ------------------------------------------------------------

    def test_resend_expired_requests_only(self):
        expired_bank, valid_bank, declined_bank = (
            self.free_bank,
            self.free_bank_2,
            self.env["account.journal"].create(
                {"name": "Banque refusée", "type": "bank", "company_id": self.company.id}
            ),
        )
        with freeze_time(fields.Datetime.now() - timedelta(days=10)):
            first = self.connection_request(expired_bank, self.manager)
        first.sudo()._close("expired", "The connection request expired without being completed.")
        self.env[REQUEST].sudo().create(
            {"journal_id": declined_bank.id, "invited_user_id": self.manager.id, "state": "declined"}
        )
        self.env[REQUEST].with_user(self.firm_user)._send(valid_bank.with_user(self.firm_user), self.manager_2)
        never_bank = self.env["account.journal"].create(
            {"name": "Banque jamais invitée", "type": "bank", "company_id": self.company.id}
        )
        outcomes = self.run_action(
            self.firm_user, expired_bank | valid_bank | declined_bank | never_bank, "resend_expired"
        )
        self.assertEqual(outcomes["Banque libre"], ("done", "Request sent to Gérant 1, at gerant1@example.com."))
        self.assertEqual(self.requests_of(expired_bank)[0].state, "sent", "a new request, to the same user")
        self.assertEqual(outcomes["Banque libre 2"][0], "refused")
        self.assertIn("still valid, until", outcomes["Banque libre 2"][1])
        self.assertEqual(
            outcomes["Banque refusée"], ("refused", "Its last connection request did not expire: it is declined.")
        )
        self.assertEqual(
            outcomes["Banque jamais invitée"], ("refused", "No connection request was ever sent for this bank.")
        )

    def test_resend_a_request_past_its_validity_not_yet_closed_by_the_scheduled_job(self):
        with freeze_time(fields.Datetime.now() - timedelta(days=8)):
            request = self.connection_request(self.free_bank, self.manager)
        self.assertEqual(request.state, "sent")
        outcomes = self.run_action(self.setup_user, self.free_bank, "resend_expired")
        self.assertEqual(outcomes["Banque libre"][0], "done")
        self.assertGreater(request.expires_at, fields.Datetime.now(), "valid again")

    # --- Synchronise now --------------------------------------------------------------------

    def test_synchronise_now_retrieves_each_connected_bank(self):
        outcomes = self.run_action(self.firm_user, self.bank | self.bank_2 | self.free_bank, "sync")
        for bank in self.bank | self.bank_2:
            count = self.env["account.bank.statement.line"].search_count([("journal_id", "=", bank.id)])
            self.assertTrue(count, "the movements of today were imported")
            self.assertEqual(outcomes[bank.name], ("done", f"{count} new movement(s) imported."))
        self.assertEqual(outcomes["Banque libre"], ("refused", "This bank is not connected to Powens."))

    def test_synchronise_now_reports_a_bank_powens_cannot_sync(self):
        self.sandbox.control("POST", f"/_sandbox/connections/{self.connection.powens_id}/state", {"state": "wrongpass"})
        outcomes = self.run_action(self.firm_user, self.bank | self.bank_2, "sync")
        self.assertEqual(outcomes[self.bank.name][0], "failed")
        self.assertIn("refused the login or the password", outcomes[self.bank.name][1])
        self.assertEqual(outcomes["Banque connectée 2"][0], "done", "the next bank is run all the same")

    # --- Remind to renew the consent --------------------------------------------------------

    def test_remind_the_person_who_connected_a_bank_whose_consent_ends_soon(self):
        self.set_consent_end(self.connection, days=10)
        self.bank.activity_ids.unlink()  # the retrieval's own reminder (7 days before): not yet
        outcomes = self.run_action(self.firm_user, self.bank | self.free_bank, "remind_consent")
        self.assertEqual(outcomes[self.bank.name], ("done", f"Reminder sent to {self.setup_user.name}."))
        activity = self.bank.activity_ids.filtered(
            lambda activity: activity.activity_type_id == self.env.ref(CONSENT_RENEWAL_ACTIVITY)
        )
        self.assertEqual(activity.user_id, self.setup_user)
        message = self.bank.message_ids[0]
        self.assertEqual(message.partner_ids, self.setup_user.partner_id, "in their inbox")
        self.assertIn("reminds you that the consent", message.body)
        self.assertEqual(outcomes["Banque libre"], ("refused", "This bank is not connected to Powens."))

    def test_remind_refuses_a_consent_far_from_its_end(self):
        self.set_consent_end(self.connection, days=100)
        outcomes = self.run_action(self.setup_user, self.bank, "remind_consent")
        self.assertEqual(outcomes[self.bank.name][0], "refused")
        self.assertIn("no renewal is needed yet", outcomes[self.bank.name][1])
        self.assertFalse(self.bank.activity_ids)
