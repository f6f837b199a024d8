import gzip
import itertools
import json
import time
import zlib
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from unittest.mock import patch

from odoo import fields
from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger

from .. import const
from ..models.account_bank_statement_line import AccountBankStatementLine
from ..powens.signature import sign_webhook
from .common import PowensSandboxMixin, transactions_of

WEBHOOK = const.WEBHOOK_ROUTE
_delivery_ids = itertools.count(7_000_001)


def signature_date(moment=None):
    """BI-Signature-Date as Powens writes it: UTC ISO-8601 with microseconds and a Z."""
    return (moment or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class WebhookCaseMixin(PowensSandboxMixin):
    """A bank fed by a sandbox account, and deliveries signed as Powens signs them."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Today's movements only, and a few more: each case uses the few it needs.
        cls.connection = cls.connect_at_powens(cls.bank, accounts=1)
        cls.account = cls.connection.account_ids
        cls.bank._powens_link_account(cls.account)
        cls.client = cls.bank._powens_client()
        cls.sandbox.control("POST", f"/_sandbox/accounts/{cls.account.powens_id}/transactions", {"count": 6})

    def lines(self):
        self.env.invalidate_all()
        return self.env["account.bank.statement.line"].search([("journal_id", "=", self.bank.id)])

    def events(self):
        return self.env["powens.webhook.event"].search([("company_id", "=", self.company.id)])

    def webhook_logs(self):
        return self.env["powens.sync.log"].search([("journal_id", "=", self.bank.id), ("trigger", "=", "webhook")])

    def booked_at_powens(self):
        return {
            str(item["id"]): Decimal(str(item["value"]))
            for item in transactions_of(self.client, self.account.powens_id, include_deleted=False)
            if not item["coming"]
        }

    def some_transactions(self, count=3):
        """Booked movements of the account, as Powens serves them."""
        booked = [
            item
            for item in transactions_of(self.client, self.account.powens_id, include_deleted=False)
            if not item["coming"]
        ]
        self.assertGreaterEqual(len(booked), count, "the sandbox gives today's movements")
        return booked[:count]

    def connection_synced(self, transactions, delivery_id=None):
        """A CONNECTION_SYNCED payload built from the sandbox's own data."""
        connection = self.client.get_connection(self.connection.powens_id, expand=("connector", "sources"))
        account = next(
            item
            for item in self.client.list_accounts(self.connection.powens_id)
            if item["id"] == self.account.powens_id
        )
        connection["accounts"] = [dict(account, transactions=transactions)]
        return {
            "id_webhook_data": delivery_id or next(_delivery_ids),
            "user": {
                "id": self.connection.user_id.powens_id,
                "signin": "2025-01-10 16:01:58",
                "platform": "sharedAccess",
            },
            "connection": connection,
        }

    def post(
        self,
        payload=None,
        *,
        path=WEBHOOK,
        body=None,
        secret=None,
        date=None,
        signature=None,
        sign_path=None,
        compress=False,
        headers=None,
    ):
        """POST a delivery signed over the uncompressed JSON with the company's secret, unless
        told otherwise; returns the response."""
        body = json.dumps(payload).encode() if body is None else body
        date = date or signature_date()
        if signature is None:
            signature = sign_webhook(secret or self.sandbox.webhook_secret, sign_path or path, date, body)
        all_headers = {"Content-Type": "application/json", "BI-Signature-Date": date, "BI-Signature": signature}
        if compress:
            body = gzip.compress(body)
            all_headers["Content-Encoding"] = "gzip"
        all_headers.update(headers or {})
        all_headers = {key: value for key, value in all_headers.items() if value is not None}
        response = self.url_open(path, data=body, headers=all_headers)
        self.env.invalidate_all()  # the request wrote through this test's own transaction
        return response

    def assertAnswer(self, response, status):
        self.assertEqual(response.status_code, status, response.text[:300])


@tagged("post_install", "-at_install")
class TestPowensWebhook(WebhookCaseMixin, HttpCase):
    """/powens/webhook: signed deliveries import through the retrieval's code path, once;
    anything not proven to come from Powens changes nothing."""

    def test_signed_connection_synced_imports_its_movements_once(self):
        transactions = self.some_transactions(3)
        response = self.post(self.connection_synced(transactions))
        self.assertAnswer(response, 200)
        self.assertEqual(response.json()["status"], "processed")
        lines = self.lines()
        self.assertEqual(
            sorted(lines.mapped("powens_transaction_id")), sorted(str(item["id"]) for item in transactions)
        )
        self.assertEqual(
            {line.powens_transaction_id: Decimal(str(line.amount)) for line in lines},
            {str(item["id"]): Decimal(str(item["value"])) for item in transactions},
        )
        event = self.events()
        self.assertEqual(
            (event.event_type, event.outcome, event.connection_id), ("CONNECTION_SYNCED", "processed", self.connection)
        )
        log = self.webhook_logs()
        self.assertEqual((len(log), log.new_count, log.error), (1, 3, False))
        self.assertEqual(self.bank.powens_state, "connected")
        self.assertFalse(self.account.last_update_cursor, "a webhook never moves the pull's cursor")
        self.assertFalse(self.bank.powens_sync_started_at, "the claim is released")

    def test_replayed_delivery_changes_nothing(self):
        payload = self.connection_synced(self.some_transactions(2))
        self.assertAnswer(self.post(payload), 200)
        again = self.post(payload)  # signed again, as Powens does at each attempt
        self.assertAnswer(again, 200)
        self.assertEqual(again.json()["status"], "duplicate")
        self.assertEqual(len(self.lines()), 2)
        self.assertEqual(len(self.events()), 1)
        self.assertEqual(len(self.webhook_logs()), 1)

    def test_deliveries_not_proven_to_come_from_powens_are_refused_and_change_nothing(self):
        payload = self.connection_synced(self.some_transactions(2))
        now = datetime.now(UTC)
        stranger = dict(
            payload, user=dict(payload["user"], id=987654), connection=dict(payload["connection"], id_user=987654)
        )
        cases = {
            "bad signature": {"secret": "not-the-secret"},
            "signed for another path": {"sign_path": "/elsewhere"},
            # Older than Powens' retries ever are (a retry may keep its first date: accepted).
            "old date": {"date": signature_date(now - timedelta(days=const.WEBHOOK_RETRY_HORIZON_DAYS, minutes=1))},
            "future date": {"date": signature_date(now + timedelta(minutes=10))},
            "unreadable date": {"date": "yesterday"},
            "no signature": {"signature": ""},
            "no date": {"headers": {"BI-Signature-Date": None}},
            "garbage signature": {"signature": "***"},
        }
        state_before = (self.bank.powens_state, self.connection.powens_state, self.connection.last_update)
        for name, options in cases.items():
            with self.subTest(name):
                self.assertAnswer(self.post(payload, **options), 403)
        with self.subTest("unknown Powens user"):
            self.assertAnswer(self.post(stranger), 403)
        with self.subTest("no Powens user"):
            self.assertAnswer(self.post({"id_webhook_data": 1, "foo": "bar"}), 403)
        with self.subTest("body changed after signing"):
            body = json.dumps(payload).encode()
            date = signature_date()
            signature = sign_webhook(self.sandbox.webhook_secret, WEBHOOK, date, body)
            tampered = json.dumps(dict(payload, id_webhook_data=payload["id_webhook_data"] + 1)).encode()
            self.assertAnswer(self.post(body=tampered, date=date, signature=signature), 403)
        self.env.invalidate_all()
        self.assertFalse(self.lines())
        self.assertFalse(self.events())
        self.assertFalse(self.webhook_logs())
        self.assertEqual(
            (self.bank.powens_state, self.connection.powens_state, self.connection.last_update), state_before
        )

    def test_without_a_webhook_secret_every_delivery_is_refused(self):
        self.company.sudo().powens_webhook_secret_encrypted = False
        payload = self.connection_synced(self.some_transactions(1))
        self.assertAnswer(self.post(payload), 403)
        self.assertAnswer(self.post(payload, secret=""), 403)
        self.assertFalse(self.lines())
        self.assertFalse(self.events())

    def test_gzip_delivery_is_verified_over_its_json(self):
        payload = self.connection_synced(self.some_transactions(2))
        self.assertAnswer(self.post(payload, compress=True), 200)
        self.assertEqual(len(self.lines()), 2)

    def test_oversized_deliveries_are_refused(self):
        payload = self.connection_synced(self.some_transactions(1))
        body = json.dumps(payload).encode()
        with patch.object(const, "WEBHOOK_MAX_BODY_BYTES", len(body) - 1):
            with self.subTest("declared length above the cap"):
                self.assertAnswer(self.post(body=body), 413)
            with self.subTest("no length declared (chunked), longer than the cap"):
                chunks = iter([body[:100], body[100:]])
                date = signature_date()
                response = self.url_open(
                    WEBHOOK,
                    data=chunks,
                    headers={
                        "Content-Type": "application/json",
                        "BI-Signature-Date": date,
                        "BI-Signature": sign_webhook(self.sandbox.webhook_secret, WEBHOOK, date, body),
                    },
                )
                self.assertAnswer(response, 413)
        with self.subTest("gzip bomb"):
            compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
            zeros = bytes(1024 * 1024)
            bomb = b"".join(
                compressor.compress(zeros) for _ in range(const.WEBHOOK_MAX_DECOMPRESSED_BYTES // len(zeros) + 1)
            )
            bomb += compressor.flush()
            self.assertLess(len(bomb), 1024 * 1024)
            response = self.post(body=bomb, headers={"Content-Encoding": "gzip"})
            self.assertAnswer(response, 413)
        self.assertFalse(self.lines())
        self.assertFalse(self.events())

    def test_malformed_deliveries_are_bad_requests(self):
        for name, body in {
            "not JSON": b"{'id_webhook_data': 1",
            "not an object": b"[1, 2]",
            "not UTF-8": b"\xff\xfe\xfa",
        }.items():
            with self.subTest(name):
                self.assertAnswer(self.post(body=body), 400)
        with self.subTest("not gzip"):
            self.assertAnswer(self.post(body=b"{}", headers={"Content-Encoding": "gzip"}), 400)
        with self.subTest("unknown encoding"):
            self.assertAnswer(self.post(body=b"{}", headers={"Content-Encoding": "br"}), 415)
        self.assertFalse(self.events())

    def test_same_movement_by_webhook_then_by_pull_is_one_line(self):
        transactions = self.some_transactions(3)
        self.assertAnswer(self.post(self.connection_synced(transactions)), 200)
        self.bank.with_user(self.setup_user).action_powens_sync()
        lines = self.lines()
        imported = lines.mapped("powens_transaction_id")
        self.assertEqual(sorted(imported), sorted(self.booked_at_powens()))
        self.assertEqual(len(imported), len(set(imported)), "each movement once")
        pull = self.env["powens.sync.log"].search([("journal_id", "=", self.bank.id), ("trigger", "=", "manual")])
        self.assertEqual(pull.new_count, len(imported) - 3, "the pull recognised the webhook's movements")
        # And the other way round: a delivery of movements already pulled adds nothing.
        self.assertAnswer(self.post(self.connection_synced(self.some_transactions(5))), 200)
        self.assertEqual(len(self.lines()), len(imported))

    def test_account_synced_imports_its_movements(self):
        transactions = self.some_transactions(2)
        account = next(
            item
            for item in self.client.list_accounts(self.connection.powens_id)
            if item["id"] == self.account.powens_id
        )
        payload = dict(account, transactions=transactions, id_webhook_data=next(_delivery_ids))
        self.assertEqual(payload["id_user"], self.connection.user_id.powens_id)
        self.assertAnswer(self.post(payload), 200)
        self.assertEqual(
            sorted(self.lines().mapped("powens_transaction_id")), sorted(str(item["id"]) for item in transactions)
        )
        self.assertEqual(self.events().event_type, "ACCOUNT_SYNCED")

    def test_bank_being_retrieved_is_left_to_the_retrieval(self):
        self.assertEqual(self.env["powens.retrieval"]._claim(self.bank), self.bank)  # a pull is running
        response = self.post(self.connection_synced(self.some_transactions(2)))
        self.assertAnswer(response, 200)
        self.assertEqual(response.json()["status"], "busy")
        self.assertFalse(self.lines(), "the running pull brings them")
        self.assertTrue(self.bank.powens_sync_started_at, "the pull's claim is untouched")

    def test_first_sync_sized_delivery_is_left_to_the_scheduled_retrieval(self):
        cron = self.env.ref("ingeneo_powens.ir_cron_powens_sync")
        triggers = self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)])
        with patch.object(const, "WEBHOOK_INLINE_IMPORT_MAX", 2):
            response = self.post(self.connection_synced(self.some_transactions(3)))
        self.assertAnswer(response, 200)
        self.assertEqual(response.json()["status"], "deferred")
        self.assertFalse(self.lines(), "not imported while Powens waits")
        self.assertEqual(self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)]), triggers + 1)

    def test_connection_deleted_disconnects_the_bank(self):
        payload = dict(self.client.get_connection(self.connection.powens_id), id_webhook_data=next(_delivery_ids))
        self.assertAnswer(self.post(payload), 200)
        self.env.invalidate_all()
        self.assertEqual(self.bank.powens_state, "disconnected")
        self.assertFalse(self.bank.powens_account_id)
        self.assertFalse(self.connection.active)
        self.assertTrue(any("deleted at Powens" in message.body for message in self.bank.message_ids))
        self.assertEqual(self.events().event_type, "CONNECTION_DELETED")

    def test_user_deleted_disconnects_every_bank_on_its_own_url_only(self):
        payload = {
            "id": self.connection.user_id.powens_id,
            "signin": "2025-01-10 16:01:58",
            "platform": "sharedAccess",
            "id_webhook_data": next(_delivery_ids),
        }
        # A User object on the generic URL may as well be USER_CREATED: acknowledged, not acted upon.
        response = self.post(payload)
        self.assertAnswer(response, 200)
        self.assertEqual(response.json()["status"], "ignored")
        self.assertEqual(self.bank.powens_state, "waiting")
        path = f"{WEBHOOK}/user_deleted"
        self.assertAnswer(self.post(dict(payload, id_webhook_data=next(_delivery_ids)), path=path), 200)
        self.env.invalidate_all()
        self.assertEqual(self.bank.powens_state, "disconnected")
        self.assertFalse(self.connection.active)
        self.assertFalse(self.connection.user_id.sudo().token_encrypted, "the dead token is forgotten")

    def test_unknown_event_is_acknowledged_and_ignored(self):
        payload = {"id": 5, "id_user": self.connection.user_id.powens_id, "id_webhook_data": next(_delivery_ids)}
        response = self.post(payload, path=f"{WEBHOOK}/account_categorized")
        self.assertAnswer(response, 200)
        self.assertEqual(response.json()["status"], "ignored")
        self.assertEqual(self.events().outcome, "ignored")

    def test_a_bank_failing_on_a_notification_keeps_nothing_and_the_pull_brings_its_movements(self):
        """One bank's failure is its own (issue 14): logged on the bank and acknowledged, not
        answered with an error Powens would retry forever; the pull's cursor did not move, so
        the next retrieval brings the same movements."""
        transactions = self.some_transactions(2)
        with (
            patch.object(AccountBankStatementLine, "_powens_import_page", side_effect=RuntimeError("boom")),
            mute_logger("odoo.addons.ingeneo_powens.models.powens_retrieval"),
        ):
            self.assertAnswer(self.post(self.connection_synced(transactions)), 200)
        self.assertFalse(self.lines(), "nothing half kept")
        self.assertIn("RuntimeError", self.webhook_logs().error)
        self.assertFalse(self.bank.powens_sync_started_at, "the claim is released")
        self.env["powens.retrieval"]._retrieve(self.bank, "cron")
        self.assertLessEqual(
            {str(item["id"]) for item in transactions}, set(self.lines().mapped("powens_transaction_id"))
        )

    def test_old_notifications_are_forgotten(self):
        Event = self.env["powens.webhook.event"]
        old, recent = Event.create(
            [
                {
                    "company_id": self.company.id,
                    "event_type": "CONNECTION_SYNCED",
                    "webhook_data_id": "1",
                    "received_at": fields.Datetime.now() - timedelta(days=const.WEBHOOK_EVENT_RETENTION_DAYS + 1),
                },
                {
                    "company_id": self.company.id,
                    "event_type": "CONNECTION_SYNCED",
                    "webhook_data_id": "2",
                    "received_at": fields.Datetime.now(),
                },
            ]
        )
        Event._gc_powens_webhook_events()
        self.assertFalse(old.exists())
        self.assertTrue(recent.exists())

    def test_notifications_are_readable_by_holders_of_the_right_only(self):
        self.assertAnswer(self.post(self.connection_synced(self.some_transactions(1))), 200)
        self.assertEqual(len(self.env["powens.webhook.event"].with_user(self.setup_user).search([])), 1)
        self.assertFalse(self.env["powens.webhook.event"].with_user(self.accountant).has_access("read"))


@tagged("post_install", "-at_install")
class TestPowensWebhookFromSandbox(WebhookCaseMixin, HttpCase):
    """End to end: the sandbox itself notifies Odoo after a sync (its own sandbox, so that
    the registered webhook reaches no other test)."""

    def test_sandbox_notification_brings_the_new_movements(self):
        self.bank.with_user(self.setup_user).action_powens_sync()
        before = len(self.lines())
        self.sandbox.control(
            "POST", "/_sandbox/webhooks", {"url": self.base_url() + WEBHOOK, "secret": self.sandbox.webhook_secret}
        )
        # New days at the bank, then Powens' background sync, which notifies.
        self.sandbox.control("POST", "/_sandbox/clock", {"advance_seconds": 3 * 86400})
        # The sandbox's request carries no test cookie: let it in, and let the server thread
        # take the test cursor while this one waits.
        with self.allow_requests(all_requests=True):
            self.sandbox.control("POST", f"/_sandbox/connections/{self.connection.powens_id}/sync")
            deadline = time.monotonic() + 15
            while True:
                deliveries = self.sandbox.control("GET", "/_sandbox/webhooks/deliveries")
                done = {item["event"] for item in deliveries if item["status"] == 200}
                if {"ACCOUNT_SYNCED", "CONNECTION_SYNCED"} <= done:
                    break
                self.assertLess(time.monotonic(), deadline, f"no successful delivery: {deliveries}")
                time.sleep(0.1)
        self.assertEqual([item["status"] for item in deliveries], [200, 200], "each accepted at the first attempt")
        lines = self.lines()
        self.assertGreater(len(lines), before, "the notification brought new movements")
        self.assertEqual(
            sorted(lines.mapped("powens_transaction_id")),
            sorted(self.booked_at_powens()),
            "every booked movement, each once, with no pull since",
        )
        self.assertEqual(sorted(self.events().mapped("event_type")), ["ACCOUNT_SYNCED", "CONNECTION_SYNCED"])
