import importlib.util
from datetime import timedelta
from pathlib import Path

from odoo import fields
from odoo.exceptions import AccessError
from odoo.tests import HttpCase, TransactionCase, freeze_time, tagged
from odoo.tools.safe_eval import safe_eval

from scripts.bench_cockpit import fields_spec, measure_cockpit

from .common import PowensSandboxMixin, new_user

MIGRATION = Path(__file__).resolve().parents[1] / "migrations" / "19.0.1.2.0" / "post-migrate.py"
READER_GROUPS = "base.group_user,account.group_account_user"
SETUP_GROUPS = f"{READER_GROUPS},ingeneo_powens.group_accounting_setup"


class CockpitCase(TransactionCase):
    """An accounting firm: two client companies of the user, a third one of somebody else."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        companies = cls.env["res.company"].create(
            [{"name": "Client Boulangerie"}, {"name": "Client Garage"}, {"name": "Not a client"}]
        )
        cls.client_a, cls.client_b, cls.stranger = companies
        mine = {"company_id": cls.client_a.id, "company_ids": (cls.client_a | cls.client_b).ids}
        cls.reader = new_user(cls.env, login="cockpit_reader", groups=READER_GROUPS, **mine)
        cls.setup_user = new_user(cls.env, login="cockpit_setup", groups=SETUP_GROUPS, **mine)
        cls.next_powens_id = 1000

    @classmethod
    def make_bank(cls, company, name, connection=None, linked=True, **values):
        """A bank of ``company`` as the Powens flows leave it: ``connection`` (the Powens
        connection's values) gives it a connection, and an account when ``linked``."""
        journal = cls.env["account.journal"].create({"name": name, "type": "bank", "company_id": company.id})
        if connection is not None:
            cls.next_powens_id += 1
            powens_connection = cls.env["powens.connection"].create(
                dict({"name": name, "company_id": company.id, "powens_id": cls.next_powens_id}, **connection)
            )
            values["powens_connection_id"] = powens_connection.id
            if linked:
                values["powens_account_id"] = (
                    cls.env["powens.account"]
                    .create(
                        {
                            "name": name,
                            "connection_id": powens_connection.id,
                            "powens_id": cls.next_powens_id,
                            "enabled": True,
                        }
                    )
                    .id
                )
        journal.write(values)  # as the superuser, as the flows do
        return journal

    def cockpit(self, user, switcher=None):
        """The banks model as the menu opens the cockpit for ``user``, whose company switcher
        shows ``switcher`` (the current company only, by default), and its domain."""
        switcher = switcher or user.company_id
        journals = self.env["account.journal"].with_user(user).with_context(allowed_company_ids=switcher.ids)
        action = journals.action_open_powens_cockpit()
        return journals.with_context(**action["context"]), safe_eval(action["domain"])

    def cockpit_filter(self, name, user=None):
        journals, domain = self.cockpit(user or self.reader)
        return journals.search(domain + journals._powens_cockpit_filter_domains()[name])


@tagged("post_install", "-at_install")
class TestPowensCockpitFilters(CockpitCase):
    """Each filter of the cockpit selects exactly the banks in its state, at search time."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        now = fields.Datetime.now()
        today = fields.Date.today()
        a, b = cls.client_a, cls.client_b
        far_consent = {"consent_expires_at": now + timedelta(days=120)}
        cls.new = cls.make_bank(a, "Never connected")
        cls.disconnected = cls.make_bank(
            b, "Disconnected", connection=far_consent, linked=False, powens_state="disconnected"
        )
        cls.strong_auth = cls.make_bank(
            a,
            "Strong authentication",
            connection=dict(far_consent, powens_state="SCARequired"),
            powens_state="action_required",
            powens_error_since=now - timedelta(hours=49),
            powens_last_error="The bank asks the account holder to authenticate again",
        )
        cls.fresh_error = cls.make_bank(
            b,
            "Error since an hour",
            connection=dict(far_consent, powens_state="bug"),
            powens_state="error",
            powens_error_since=now - timedelta(hours=1),
        )
        cls.choice_pending = cls.make_bank(
            a, "Account to choose", connection=far_consent, linked=False, powens_state="not_connected"
        )
        cls.consent_ending = cls.make_bank(
            b,
            "Consent ending",
            connection={"consent_expires_at": now + timedelta(days=13)},
            powens_state="connected",
            powens_last_movement_date=today - timedelta(days=2),
        )
        cls.silent = cls.make_bank(
            a,
            "Silent",
            connection={"consent_expires_at": now + timedelta(days=15)},
            powens_state="connected",
            powens_last_movement_date=today - timedelta(days=8),
        )
        cls.waiting = cls.make_bank(b, "Waiting", connection=far_consent, powens_state="waiting")
        cls.requested = cls.make_bank(a, "Requested")
        cls.env["powens.connection.request"].create(
            {"journal_id": cls.requested.id, "requester_id": cls.setup_user.id, "invited_user_id": cls.reader.id}
        )
        # Another company's banks, in every alarming state: never in the user's cockpit.
        cls.foreign = cls.make_bank(
            cls.stranger,
            "Foreign bank",
            connection={"consent_expires_at": now + timedelta(days=1), "powens_state": "SCARequired"},
            powens_state="action_required",
            powens_error_since=now - timedelta(days=5),
            powens_last_movement_date=today - timedelta(days=30),
        )
        cls.foreign_new = cls.make_bank(cls.stranger, "Foreign new bank")
        cls.all_banks = (
            cls.new
            | cls.disconnected
            | cls.strong_auth
            | cls.fresh_error
            | cls.choice_pending
            | cls.consent_ending
            | cls.silent
            | cls.waiting
            | cls.requested
        )

    def test_each_filter_selects_the_banks_in_its_state(self):
        expected = {
            "filter_action_required": self.strong_auth | self.fresh_error | self.choice_pending,
            "filter_consent_expiring": self.consent_ending,
            "filter_error_48h": self.strong_auth,
            "filter_no_movement_7d": self.silent,
            "filter_request_pending": self.requested,
            "filter_not_connected": self.new | self.disconnected | self.choice_pending | self.requested,
        }
        self.assertEqual(set(self.env["account.journal"]._powens_cockpit_filter_domains()), set(expected))
        for name, banks in expected.items():
            with self.subTest(filter=name):
                self.assertEqual(self.cockpit_filter(name), banks)

    def test_relative_filters_are_evaluated_when_the_user_searches(self):
        """The same banks, two days later: the consent of "Silent" is within 14 days, the error
        of an hour is older than 48 h; eight days later, no bank connected today has had a
        movement for 7 days, nor has the one whose last movement was 2 days ago."""
        with freeze_time(fields.Datetime.now() + timedelta(days=2)):
            self.assertEqual(self.cockpit_filter("filter_consent_expiring"), self.consent_ending | self.silent)
            self.assertEqual(self.cockpit_filter("filter_error_48h"), self.strong_auth | self.fresh_error)
        with freeze_time(fields.Datetime.now() + timedelta(days=8)):
            self.assertEqual(
                self.cockpit_filter("filter_no_movement_7d"),
                self.strong_auth | self.fresh_error | self.consent_ending | self.silent | self.waiting,
            )

    def test_the_cockpit_lists_every_bank_of_every_company_of_the_user_and_no_other(self):
        journals, domain = self.cockpit(self.reader)
        self.assertEqual(journals.search(domain), self.all_banks)
        # The company switcher on one company shows its banks only, elsewhere than in the cockpit.
        switched = (
            self.env["account.journal"].with_user(self.reader).with_context(allowed_company_ids=self.client_a.ids)
        )
        self.assertEqual(switched.search(domain).company_id, self.client_a)

    def test_another_companys_banks_never_appear(self):
        journals, domain = self.cockpit(self.reader)
        for name, filter_domain in journals._powens_cockpit_filter_domains().items():
            with self.subTest(filter=name):
                self.assertFalse(journals.search(domain + filter_domain) & (self.foreign | self.foreign_new))
        crafted = [("company_id", "=", self.stranger.id)]
        self.assertFalse(journals.search(domain + crafted))
        self.assertFalse(journals.web_search_read(domain + crafted, {"name": {}})["records"])
        with self.assertRaises(AccessError):
            journals.browse(self.foreign.id).read(["name", "powens_state"])
        with self.assertRaises(AccessError):
            journals.with_context(allowed_company_ids=(self.client_a | self.stranger).ids).search(domain)

    def test_balances_of_banks_are_not_added_up_in_a_group(self):
        """A company's banks may hold several currencies: a group row shows no total of their
        balances (the web client totals the columns whose field has an aggregator)."""
        described = self.env["account.journal"].fields_get(["powens_balance"], ["aggregator"])["powens_balance"]
        self.assertFalse(described.get("aggregator"))

    def test_an_invoicing_user_reads_every_column_the_list_shows_them(self):
        """The list as the web client reads it for a user of Invoicing only: the alerts and
        counts computed for all the rows, the right's columns gone."""
        invoicing = new_user(
            self.env,
            login="cockpit_invoicing",
            groups="base.group_user,account.group_account_invoice",
            company_id=self.client_a.id,
            company_ids=(self.client_a | self.client_b).ids,
        )
        journals, domain = self.cockpit(invoicing)
        spec = fields_spec(journals, "list")
        self.assertNotIn("powens_balance", spec)
        self.env["powens.pending.transaction"].create({"journal_id": self.silent.id, "powens_transaction_id": "p1"})
        alerts = ["powens_consent_expiring", "powens_in_error_48h", "powens_no_movement_7d", "powens_pending_count"]
        rows = {
            row["id"]: [row[name] for name in alerts]
            for row in journals.web_search_read(domain, dict(spec, **{name: {} for name in alerts}))["records"]
        }
        self.assertEqual(len(rows), len(self.all_banks))
        self.assertEqual(rows[self.consent_ending.id], [True, False, False, 0])
        self.assertEqual(rows[self.strong_auth.id], [False, True, False, 0])
        self.assertEqual(rows[self.silent.id], [False, False, True, 1])
        self.assertEqual(rows[self.new.id], [False, False, False, 0])

    def test_a_reader_without_the_right_sees_but_cannot_act(self):
        journals = self.cockpit(self.reader)[0]
        bank = journals.browse(self.strong_auth.id)
        self.assertEqual(bank.powens_last_error, "The bank asks the account holder to authenticate again")
        self.assertEqual(bank.powens_request_user_id, self.env["res.users"])
        self.assertEqual(journals.browse(self.requested.id).powens_request_user_id, self.reader)
        with self.assertRaises(AccessError):
            bank.read(["powens_balance"])
        for action in ("action_powens_reconnect", "action_powens_sync", "action_powens_disconnect"):
            with self.subTest(action=action), self.assertRaises(AccessError):
                getattr(bank, action)()
        self.assertEqual(self.cockpit(self.setup_user)[0].browse(self.strong_auth.id).powens_balance, 0.0)


@tagged("post_install", "-at_install")
class TestPowensCockpitQueries(CockpitCase):
    """The cockpit's screens cost the same number of SQL queries for 5 banks as for 20: no
    query per bank (make bench measures 400)."""

    def make_banks(self, count):
        """``count`` banks, by blocks of five alike, each block with a bank for every filter."""
        now = fields.Datetime.now()
        states = ("connected", "action_required", "waiting", "error", "not_connected")
        banks = self.env["account.journal"]
        for index in range(count):
            kind = index % len(states)
            bank = self.make_bank(
                (self.client_a, self.client_b)[index % 2],
                f"Bank {count}-{index}",
                connection={"consent_expires_at": now + timedelta(days=kind)},
                powens_state=states[kind],
                powens_error_since=now - timedelta(days=kind % 3),
                powens_last_movement_date=fields.Date.today() - timedelta(days=10 * (kind % 2)),
            )
            self.env["powens.pending.transaction"].create({"journal_id": bank.id, "powens_transaction_id": bank.name})
            if kind in (0, 4):
                self.env["powens.connection.request"].create(
                    {"journal_id": bank.id, "requester_id": self.setup_user.id, "invited_user_id": self.reader.id}
                )
            banks |= bank
        return banks

    def test_query_count_does_not_grow_with_the_banks(self):
        few = self.make_banks(5)
        many = self.make_banks(20)
        for user in (self.setup_user, self.reader):
            with self.subTest(user=user.login):
                measure_cockpit(self.env(user=user), few)  # the views and caches a session has loaded
                few_measures = measure_cockpit(self.env(user=user), few)
                many_measures = measure_cockpit(self.env(user=user), many)
                self.assertEqual((many_measures[0].view, many_measures[0].records), ("list", 20))
                self.assertEqual(
                    {measure.view: measure.queries for measure in few_measures},
                    {measure.view: measure.queries for measure in many_measures},
                )


@tagged("post_install", "-at_install")
class TestPowensCockpitUpkeep(PowensSandboxMixin, TransactionCase):
    """The cockpit's fields follow the retrievals and the connection's state by themselves."""

    def set_state(self, connection, state):
        self.sandbox.control("POST", f"/_sandbox/connections/{connection.powens_id}/state", {"state": state})

    def test_a_retrieval_records_its_outcome_the_error_and_the_last_movement(self):
        connection = self.connect_at_powens(self.bank, accounts=1)
        self.bank._powens_link_account(connection.account_ids)
        retrieval = self.env["powens.retrieval"]
        retrieval._retrieve(self.bank, "manual")
        newest = max(self.env["account.bank.statement.line"].search([("journal_id", "=", self.bank.id)]).mapped("date"))
        self.assertEqual(
            (
                self.bank.powens_last_retrieval_outcome,
                self.bank.powens_last_movement_date,
                self.bank.powens_error_since,
            ),
            ("success", newest, False),
        )

        self.set_state(connection, "SCARequired")
        retrieval._retrieve(self.bank, "cron")
        blocked_since = self.bank.powens_error_since
        self.assertEqual(self.bank.powens_last_retrieval_outcome, "failure")
        self.assertTrue(self.bank.powens_action_required)
        self.assertIn("Reconnect", self.bank.powens_last_error)
        journals = self.env["account.journal"].with_user(self.setup_user)
        error_48h = journals._powens_cockpit_filter_domains()["filter_error_48h"]
        self.assertNotIn(self.bank, journals.search(error_48h))
        with freeze_time(blocked_since + timedelta(hours=49)):
            retrieval._retrieve(self.bank, "cron")
            self.assertEqual(self.bank.powens_error_since, blocked_since, "in error since the first failure")
            self.assertIn(self.bank, journals.search(error_48h))

        # The account holder reconnects: the state is applied, the bank is fine again.
        self.set_state(connection, None)
        self.env["powens.retrieval"]._refresh_connection(self.bank, self.bank._powens_client(), forced=False)
        self.bank._powens_apply_connection_state()
        self.assertEqual(
            (self.bank.powens_action_required, self.bank.powens_error_since, self.bank.powens_last_error),
            (False, False, False),
        )

    def test_the_open_request_follows_the_requests_state(self):
        connection_request = self.env["powens.connection.request"].create(
            {"journal_id": self.bank.id, "requester_id": self.setup_user.id, "invited_user_id": self.accountant.id}
        )
        self.assertEqual(self.bank.powens_open_request_id, connection_request)
        journals = self.env["account.journal"].with_user(self.setup_user)
        self.assertIn(self.bank, journals.search(journals._powens_cockpit_filter_domains()["filter_request_pending"]))
        connection_request.state = "cancelled"
        self.assertFalse(self.bank.powens_open_request_id)

    def test_the_migration_gives_the_banks_fed_before_what_their_retrievals_knew(self):
        connection = self.connect_at_powens(self.bank, accounts=1)
        self.bank._powens_link_account(connection.account_ids)
        self.env["powens.retrieval"]._retrieve(self.bank, "manual")
        self.set_state(connection, "wrongpass")
        self.env["powens.retrieval"]._retrieve(self.bank, "cron")
        fields_kept = ("powens_last_movement_date", "powens_last_retrieval_outcome", "powens_last_error")
        retrieved = [self.bank[name] for name in fields_kept]
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE account_journal SET powens_last_movement_date = NULL, powens_last_retrieval_at = NULL, "
            "powens_last_retrieval_outcome = NULL, powens_last_error = NULL WHERE id = %s",
            [self.bank.id],
        )
        self.env.invalidate_all()
        spec = importlib.util.spec_from_file_location("ingeneo_powens_post_migrate_19_0_1_2_0", MIGRATION)
        migration = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(migration)
        migration.migrate(self.env.cr, "19.0.1.1.0")
        self.assertEqual([self.bank[name] for name in fields_kept], retrieved)
        self.assertEqual(retrieved[1], "failure")
        self.assertTrue(retrieved[0])
        self.assertEqual(self.bank.powens_last_retrieval_at, self.bank.powens_sync_log_ids[:1].started_at)


@tagged("post_install", "-at_install")
class TestPowensCockpitRoute(HttpCase):
    """The menu, the dashboard and the digest open the cockpit through /powens/cockpit, which
    ticks every company of the user in the switcher (Odoo 19's lists show the ticked ones)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_a = cls.env.company
        cls.company_b = cls.env["res.company"].create({"name": "Client B"})
        cls.stranger = cls.env["res.company"].create({"name": "Client d'un autre cabinet"})
        new_user(
            cls.env,
            login="firm_reader",
            groups="base.group_user,account.group_account_readonly",
            company_id=cls.company_a.id,
            company_ids=(cls.company_a | cls.company_b).ids,
        )

    def open_cockpit(self, query="", ticked=None):
        self.authenticate("firm_reader", "firm_reader")
        if ticked:
            self.opener.cookies.set("cids", "-".join(map(str, ticked.ids)))
        response = self.url_open(f"/powens/cockpit{query}", allow_redirects=False)
        self.assertEqual(response.status_code, 303)
        return response.cookies.get("cids"), response.headers["Location"]

    def test_every_company_of_the_user_is_ticked_the_current_one_first(self):
        cids, location = self.open_cockpit(ticked=self.company_b)
        self.assertEqual(cids, f"{self.company_b.id}-{self.company_a.id}")
        self.assertTrue(location.endswith("/odoo/action-ingeneo_powens.action_server_powens_cockpit"))

    def test_the_digest_link_puts_its_company_first_and_a_stranger_is_ignored(self):
        cids, location = self.open_cockpit(f"?needing=1&company_id={self.company_b.id}", ticked=self.company_a)
        self.assertEqual(cids, f"{self.company_b.id}-{self.company_a.id}")
        self.assertTrue(location.endswith("/odoo/action-ingeneo_powens.action_powens_cockpit_needing_someone"))
        cids, _location = self.open_cockpit(f"?company_id={self.stranger.id}", ticked=self.company_a)
        self.assertEqual(cids, f"{self.company_a.id}-{self.company_b.id}", "only the user's own companies")
