"""Issue 14, "Fair use and PSD2": the scheduled retrieval reads what Powens has and never
forces a bank sync; "Synchronise now" forces one, once; a blocked bank is read, not synced, a
few times a day; a bank whose webhooks arrive costs no request but a daily safety read. Also
the honest states and the renewal of a revoked token. Real Odoo, real sandbox over HTTP."""

import itertools
from datetime import timedelta

from odoo import fields
from odoo.tests import freeze_time, tagged

from .test_powens_sync import ConnectedBankCase

_delivery_ids = itertools.count(8_000_001)


@tagged("post_install", "-at_install")
class TestPowensFairUse(ConnectedBankCase):
    def setUp(self):
        super().setUp()
        self.sandbox.control("DELETE", "/_sandbox/calls")
        self.addCleanup(self.sandbox.control, "DELETE", "/_sandbox/faults")

    def calls(self):
        return self.sandbox.control("GET", "/_sandbox/calls")

    def set_state(self, state, message=None):
        self.sandbox.control(
            "POST",
            f"/_sandbox/connections/{self.connection.powens_id}/state",
            {"state": state, "error_message": message},
        )
        self.addCleanup(
            self.sandbox.control, "POST", f"/_sandbox/connections/{self.connection.powens_id}/state", {"state": None}
        )

    def last_log(self):
        return self.env["powens.sync.log"].search([("journal_id", "=", self.bank.id)], order="id desc", limit=1)

    def one_day_of_hourly_runs(self):
        """The scheduled retrieval, run every hour for a day from now, as the cron picks the
        banks due; returns the Powens requests each run made for this bank."""
        start = fields.Datetime.now()
        requests_per_run = []
        for hour in range(1, 25):
            self.sandbox.control("DELETE", "/_sandbox/calls")
            with freeze_time(start + timedelta(hours=hour)):
                for journal in self.env["account.journal"]._powens_cron_candidates() & self.bank:
                    self.env["powens.retrieval"]._retrieve(journal, "cron")
            requests_per_run.append(len(self.calls()))
        return requests_per_run

    def test_scheduled_retrieval_reads_and_never_forces_even_when_powens_data_is_old(self):
        with freeze_time(fields.Datetime.now() + timedelta(hours=7)):
            self.env["powens.retrieval"]._retrieve(self.bank, "cron")
        methods = [(call["method"], call["path"].rsplit("/", 1)[-1]) for call in self.calls()]
        self.assertNotIn("PUT", [method for method, _path in methods], "never a forced sync")
        self.assertEqual(self.last_log().error, False)
        reads = [call for call in self.calls() if call["path"].endswith(f"/connections/{self.connection.powens_id}")]
        self.assertEqual(len(reads), 1, "one read of the connection, its accounts with it")
        self.assertEqual(set(reads[0]["query"]["expand"].split(",")), {"all_accounts", "sources"})

    def test_synchronise_now_forces_one_sync_with_the_user_present(self):
        self.bank.with_user(self.setup_user).action_powens_sync()
        syncs = [call for call in self.calls() if call["method"] == "PUT"]
        self.assertEqual([call["query"].get("psu_requested") for call in syncs], ["true"])

    def test_a_forced_sync_that_fails_is_reported_never_resent(self):
        self.sandbox.control(
            "POST", "/_sandbox/faults", {"kind": "503", "count": 4, "path": f"/connections/{self.connection.powens_id}"}
        )
        action = self.bank.with_user(self.setup_user).action_powens_sync()
        self.assertEqual(action["params"]["type"], "warning")
        self.assertIn("tried again later", action["params"]["message"], "what happens next, not Powens' code")
        self.assertEqual([call["method"] for call in self.calls() if call["method"] == "PUT"], ["PUT"])
        (fault,) = self.sandbox.control("GET", "/_sandbox/faults")
        self.assertEqual(fault["count"], 3, "one PUT reached Powens")

    def test_blocked_bank_is_read_never_synced_and_its_movements_still_arrive(self):
        new_ids = self.sandbox.control(
            "POST", f"/_sandbox/accounts/{self.account.powens_id}/transactions", {"count": 4}
        )["ids"]
        self.set_state("SCARequired", "Authentification forte requise")
        self.env["powens.retrieval"]._retrieve(self.bank, "cron")
        self.assertEqual(self.bank.powens_state, "action_required")
        self.bank.with_user(self.setup_user).action_powens_sync()
        self.assertNotIn("PUT", [call["method"] for call in self.calls()], "not even when the user asks")
        imported = (
            self.env["account.bank.statement.line"]
            .search([("journal_id", "=", self.bank.id)])
            .mapped("powens_transaction_id")
        )
        self.assertLessEqual(set(map(str, new_ids)), set(imported), "what Powens has is read all the same")

    def test_blocked_bank_is_read_four_times_a_day(self):
        self.set_state("wrongpass")
        self.env["powens.retrieval"]._retrieve(self.bank, "cron")
        runs = self.one_day_of_hourly_runs()
        self.assertEqual(sum(1 for requests in runs if requests), 4, runs)
        self.assertLessEqual(sum(runs), 8)

    def test_without_webhooks_a_day_costs_at_most_24_requests(self):
        self.company.sudo().powens_webhook_secret_encrypted = False
        self.env["powens.retrieval"]._retrieve(self.bank, "cron")
        runs = self.one_day_of_hourly_runs()
        self.assertLessEqual(sum(runs), 24, runs)
        self.assertTrue(all(requests <= 2 for requests in runs), runs)
        self.assertGreaterEqual(sum(1 for requests in runs if requests), 8, "read at least every 3 hours")

    def notify(self, transactions=(), delivery_id=None):
        """A CONNECTION_SYNCED for the bank's account, applied as the webhook route does."""
        client = self.bank._powens_client()
        connection = client.get_connection(self.connection.powens_id, expand=("connector", "sources"))
        account = next(
            item for item in client.list_accounts(self.connection.powens_id) if item["id"] == self.account.powens_id
        )
        connection["accounts"] = [dict(account, transactions=list(transactions))]
        payload = {
            "id_webhook_data": delivery_id or next(_delivery_ids),
            "connection": connection,
            "user": {"id": self.connection.user_id.powens_id},
        }
        return self.env["powens.webhook.event"]._powens_receive(self.company, "CONNECTION_SYNCED", payload)

    def test_healthy_webhooks_leave_a_daily_safety_read_only(self):
        self.env["powens.retrieval"]._retrieve(self.bank, "cron")
        self.assertEqual(self.notify(), "processed")
        self.assertTrue(self.bank.powens_notified_at)
        runs = self.one_day_of_hourly_runs()
        self.assertEqual(sum(1 for requests in runs if requests), 1, runs)
        self.assertLessEqual(sum(runs), 4)
        self.assertTrue(runs[-1], "the safety read comes a day after the last one")

    def test_a_deferred_notification_is_read_by_the_next_run_whatever_the_schedule(self):
        self.env["powens.retrieval"]._retrieve(self.bank, "cron")
        self.notify()
        self.assertNotIn(self.bank, self.env["account.journal"]._powens_cron_candidates())
        self.bank._powens_notified(applied=False)
        self.assertIn(self.bank, self.env["account.journal"]._powens_cron_candidates())

    def test_temporary_problem_is_its_own_status_and_says_nothing_is_to_be_done(self):
        self.set_state("rateLimiting")
        self.env["powens.retrieval"]._retrieve(self.bank, "cron")
        self.assertEqual(self.bank.powens_state, "temporary")
        self.assertIn("Powens tries again by itself", self.bank.powens_message)

    def test_messages_are_in_the_language_of_the_person_who_must_act(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        self.setup_user.lang = "fr_FR"
        self.set_state("passwordExpired")
        self.env["powens.retrieval"]._retrieve(self.bank, "cron")
        english = self.bank.with_context(lang="en_US")._powens_state_advice("passwordExpired")
        self.assertEqual(
            self.bank.powens_message, self.bank.with_context(lang="fr_FR")._powens_state_advice("passwordExpired")
        )
        self.assertIn("password has expired", english)

    def revoke_the_token(self):
        """The company's token stops working at Powens (revoked or expired). A token of this
        test's own, so that the next tests find the class's token valid (the sandbox keeps
        what the rolled-back transaction forgets)."""
        powens_user = self.connection.user_id.sudo()
        client = powens_user._powens_client()
        token = client.renew_token(powens_user.powens_id)["access_token"]
        powens_user.token_encrypted = self.company._powens_seal(token)
        revoked = client.session.delete(
            client.api_url + "auth/token", timeout=10, headers={"Authorization": f"Bearer {token}"}
        )
        self.assertEqual(revoked.status_code, 204)
        self.sandbox.control("DELETE", "/_sandbox/calls")
        return token

    def test_revoked_token_is_renewed_before_anything_is_reported(self):
        token = self.revoke_the_token()
        self.env["powens.retrieval"]._retrieve(self.bank, "cron")
        self.assertEqual(self.last_log().error, False)
        renewed = self.company._powens_unseal(self.connection.user_id.sudo().token_encrypted)
        self.assertNotEqual(renewed, token, "the renewed token is kept")
        statuses = [(call["path"], call["status"]) for call in self.calls()]
        self.assertEqual([status for _path, status in statuses].count(401), 1, statuses)
        self.assertIn(("/2.0/auth/renew", 200), statuses)

    def test_a_token_powens_will_not_renew_is_reported_with_what_to_do(self):
        self.revoke_the_token()
        self.sandbox.control("POST", "/_sandbox/faults", {"kind": "500", "path": "/auth/renew"})
        self.env["powens.retrieval"]._retrieve(self.bank, "cron")
        self.assertIn("check the POWENS settings", self.last_log().error)
