"""Attacks on /powens/webhook (issue 13 §4) and deliveries Powens may send that must never be
refused forever (issue 14), over real HTTP to the Odoo test server, whose request threads run
in this process: the memory they take is measured here."""

import gzip
import json
import logging
import time
import tracemalloc
import zlib
from datetime import UTC, datetime, timedelta
from unittest.mock import patch

from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger

from .. import const
from ..models.powens_webhook_event import PowensWebhookEvent
from ..powens.signature import sign_webhook
from .test_powens_webhook import WEBHOOK, WebhookCaseMixin, _delivery_ids, signature_date

_logger = logging.getLogger(__name__)
CONTROLLER_LOGGER = "odoo.addons.ingeneo_powens.controllers.main"
# The route and the models it delegates to.
ADDON_LOGGER = "odoo.addons.ingeneo_powens"
MIB = 1024 * 1024
# What the worker may take to refuse an unauthenticated delivery, whatever its size once
# decompressed: the decoded piece in hand, and the request's own bookkeeping.
REFUSAL_MEMORY_BUDGET = 4 * MIB


def gzip_bomb(decompressed_bytes):
    """A gzip body of zeros, about a thousand times smaller than what it decompresses to."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = bytes(MIB)
    parts = [compressor.compress(zeros) for _ in range(decompressed_bytes // MIB)]
    return b"".join(parts) + compressor.flush()


@tagged("post_install", "-at_install")
class TestPowensWebhookAttacks(WebhookCaseMixin, HttpCase):
    """Nothing is decompressed, parsed or changed for a delivery not proven to come from Powens."""

    def post_measured(self, **options):
        """POST twice and return a response, the peak of memory allocated meanwhile in this
        process (the server's request thread included) beyond the highest peak of a few
        requests with an empty body (the test server's own bookkeeping), and the time taken.
        tracemalloc counts every thread of the process: of the two posts, the lower peak leaves
        out what another thread (the test runner's reporting) allocated during one of them,
        while a server that holds the body shows it in both."""
        baseline = max(
            self._peak_of(lambda: self.post(body=b"{}", headers={"BI-Signature": None}))[1] for _attempt in range(3)
        )
        attempts = [self._peak_of(lambda: self._timed(lambda: self.post(**options))) for _attempt in range(2)]
        self.assertEqual(len({response.status_code for (response, _elapsed), _peak in attempts}), 1)
        (response, elapsed), peak = min(attempts, key=lambda attempt: attempt[1])
        return response, max(peak - baseline, 0), elapsed

    @staticmethod
    def _timed(call):
        started = time.perf_counter()
        return call(), time.perf_counter() - started

    @staticmethod
    def _peak_of(call):
        tracemalloc.start()
        try:
            tracemalloc.reset_peak()
            before = tracemalloc.get_traced_memory()[0]
            result = call()
            return result, tracemalloc.get_traced_memory()[1] - before
        finally:
            tracemalloc.stop()

    def test_unsigned_gzip_bomb_is_refused_without_being_held(self):
        """A 100 MiB gzip bomb (about 100 KB sent), under the decompression cap; and one of
        1 GiB, beyond it. Before: decompressed whole (100 MiB in memory) then 400, or 413."""
        unsigned = {"BI-Signature": None, "BI-Signature-Date": None, "Content-Encoding": "gzip"}
        forged = {"Content-Encoding": "gzip"}  # headers present, signature of other bytes
        for decompressed in (100 * MIB, 1024 * MIB):
            bomb = gzip_bomb(decompressed)
            for name, headers in (("no signature", unsigned), ("forged signature", forged)):
                with self.subTest(name, decompressed_mib=decompressed // MIB), mute_logger(CONTROLLER_LOGGER):
                    response, peak, elapsed = self.post_measured(
                        body=bomb,
                        signature=sign_webhook(self.sandbox.webhook_secret, WEBHOOK, signature_date(), b"{}"),
                        headers=headers,
                    )
                    _logger.info(
                        "gzip bomb of %s KiB -> %s MiB, %s: %s in %.2f s, peak %.2f MiB",
                        len(bomb) // 1024,
                        decompressed // MIB,
                        name,
                        response.status_code,
                        elapsed,
                        peak / MIB,
                    )
                    self.assertAnswer(response, 403)
                    self.assertLess(peak, REFUSAL_MEMORY_BUDGET, f"{peak / MIB:.1f} MiB taken")
                    self.assertLess(elapsed, 10, "refused quickly")
        self.assertFalse(self.events())

    def test_unsigned_malformed_body_is_refused_before_parsing(self):
        """Before: parsed first, answered 400 (which tells a stranger the body was read)."""
        for name, body in {
            "not JSON": b"{'id_webhook_data': 1",
            "not an object": b"[1, 2]",
            "deep nesting": b"[" * 100_000,
            "not gzip": b"{}",
        }.items():
            headers = {"Content-Encoding": "gzip"} if name == "not gzip" else {}
            with self.subTest(name), mute_logger(CONTROLLER_LOGGER):
                self.assertAnswer(self.post(body=body, headers=dict(headers, **{"BI-Signature": None})), 403)
                self.assertAnswer(
                    self.post(
                        body=body, signature=sign_webhook("guess", WEBHOOK, signature_date(), body), headers=headers
                    ),
                    403,
                )
        self.assertFalse(self.events())

    def test_signed_body_decompressing_beyond_the_cap_is_refused_clearly(self):
        """Signed over the bytes sent, but what they decompress to is more than any delivery
        Powens sends: 413, nothing parsed."""
        bomb = gzip_bomb(3 * MIB)
        with patch.object(const, "WEBHOOK_MAX_DECOMPRESSED_BYTES", 2 * MIB):
            response = self.post(body=bomb, headers={"Content-Encoding": "gzip"})
        self.assertAnswer(response, 413)
        self.assertFalse(self.events())

    def test_a_company_acts_only_through_its_own_secret(self):
        """Company 2 on its own contract: a delivery for its Powens user, signed with company 1's
        secret, is refused. On one contract (the same secret), the holder of that secret can
        sign for both: the secret is the contract's, not the company's."""
        other = self.env["res.company"].create({"name": "Autre société"})
        self.configure_powens(other)
        self.env["powens.user"].create({"company_id": other.id, "powens_id": 424242})
        payload = self.connection_synced([])
        payload["user"]["id"] = payload["connection"]["id_user"] = 424242
        with self.subTest("own contract"):
            other.powens_webhook_secret = "the-other-contract-secret"
            with mute_logger(CONTROLLER_LOGGER):
                self.assertAnswer(self.post(payload), 403)
            self.assertAnswer(self.post(payload, secret="the-other-contract-secret"), 200)
        with self.subTest("shared contract"):
            other.powens_webhook_secret = self.sandbox.webhook_secret
            self.assertAnswer(self.post(dict(payload, id_webhook_data=next(_delivery_ids))), 200)
        events = self.env["powens.webhook.event"].search([("company_id", "=", other.id)])
        self.assertEqual(len(events), 2)
        self.assertFalse(self.events(), "company 1 untouched")

    def test_refusals_log_the_path_as_data(self):
        """The event segment is the public's: a newline in it would forge a log line."""
        with self.assertLogs(CONTROLLER_LOGGER, "WARNING") as logs:
            self.post({"id_webhook_data": 1}, path=f"{WEBHOOK}/x%0A2026-01-01 INFO forged", secret="guess")
        self.assertEqual(len(logs.records), 1)
        self.assertNotIn("\n", logs.records[0].getMessage())
        self.assertIn(r"\n", logs.records[0].getMessage())

    def test_failed_processing_logs_no_traceback(self):
        """Database errors quote the rows they refused (bank data): no traceback above DEBUG. (A
        bank's own failure is that bank's, logged on it and acknowledged: this one fails before.)"""
        payload = self.connection_synced(self.some_transactions(1))
        with (
            patch.object(PowensWebhookEvent, "_powens_register", side_effect=RuntimeError("IBAN FR76...")),
            self.assertLogs(ADDON_LOGGER, "INFO") as logs,
        ):
            self.assertAnswer(self.post(payload), 500)
        self.assertTrue(logs.records)
        for record in logs.records:
            self.assertIsNone(record.exc_info, record.getMessage())
            self.assertNotIn("FR76", record.getMessage())


@tagged("post_install", "-at_install")
class TestPowensWebhookNeverRefusedForever(WebhookCaseMixin, HttpCase):
    """What Powens' documentation leaves open is accepted both ways; whatever size it sends is
    acknowledged and its content retrieved."""

    def test_gzip_signed_over_the_body_as_sent_is_accepted(self):
        """The other reading of §7.4 (the decoded reading: test_gzip_delivery_is_verified_over_its_json)."""
        payload = self.connection_synced(self.some_transactions(2))
        body = gzip.compress(json.dumps(payload).encode())
        response = self.post(body=body, headers={"Content-Encoding": "gzip"})  # signed as sent
        self.assertAnswer(response, 200)
        self.assertEqual(response.json()["status"], "processed")
        self.assertEqual(len(self.lines()), 2)

    def test_retry_keeping_its_first_date_is_accepted_once(self):
        """Powens does not say whether a retry is dated again: one keeping the date of an
        attempt two hours ago is processed, and its own replay is a duplicate."""
        payload = self.connection_synced(self.some_transactions(2))
        first_attempt = signature_date(datetime.now(UTC) - timedelta(hours=2))
        response = self.post(payload, date=first_attempt)
        self.assertAnswer(response, 200)
        self.assertEqual(response.json()["status"], "processed")
        again = self.post(payload, date=first_attempt)
        self.assertEqual(again.json()["status"], "duplicate")
        self.assertEqual(len(self.lines()), 2)

    def test_retry_dated_again_is_a_duplicate(self):
        """The other reading: each attempt signed at its own date, the notification processed once."""
        payload = self.connection_synced(self.some_transactions(2))
        self.assertAnswer(self.post(payload, date=signature_date(datetime.now(UTC) - timedelta(minutes=20))), 200)
        again = self.post(payload, date=signature_date())
        self.assertAnswer(again, 200)
        self.assertEqual(again.json()["status"], "duplicate")
        self.assertEqual((len(self.lines()), len(self.events())), (2, 1))

    def test_delivery_without_id_must_be_fresh_and_is_processed_once(self):
        """Without id_webhook_data a replay cannot be told apart later: fresh only, and the
        same signed delivery sent again within the window is a duplicate."""
        payload = self.connection_synced(self.some_transactions(1))
        del payload["id_webhook_data"]
        with mute_logger(CONTROLLER_LOGGER):
            stale = self.post(payload, date=signature_date(datetime.now(UTC) - timedelta(minutes=10)))
        self.assertAnswer(stale, 403)
        date = signature_date()
        self.assertEqual(self.post(payload, date=date).json()["status"], "processed")
        self.assertEqual(self.post(payload, date=date).json()["status"], "duplicate")
        self.assertEqual(len(self.webhook_logs()), 1)

    def test_first_sync_of_twenty_thousand_movements_is_acknowledged_and_retrieved(self):
        """About 21 MB of JSON, as Powens sends a first sync of a large business account.
        Before: 413 (above 20 MiB), sent again by Powens forever."""
        template = self.some_transactions(1)[0]
        transactions = [
            dict(template, id=90_000_000 + index, wording=f"PRLV SEPA {index:06d} " + "x" * 700)
            for index in range(20_000)
        ]
        payload = self.connection_synced(transactions)
        body = json.dumps(payload).encode()
        self.assertGreater(len(body), 20 * MIB)
        cron = self.env.ref("ingeneo_powens.ir_cron_powens_sync")
        triggers = self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)])
        for name, compress in (("as is", False), ("gzip", True)):
            with self.subTest(name):
                response = self.post(body=body, compress=compress)
                self.assertAnswer(response, 200)
                self.assertEqual(response.json()["status"], "deferred")
        self.assertFalse(self.lines(), "not imported while Powens waits: the retrieval brings them")
        self.assertEqual(self.events().mapped("outcome"), ["deferred", "deferred"])
        self.assertEqual(self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)]), triggers + 2)


@tagged("post_install", "-at_install")
class TestPowensWebhookGzipFromSandbox(WebhookCaseMixin, HttpCase):
    """End to end: the sandbox gzips its deliveries and signs them one way, then the other."""

    def test_sandbox_gzip_deliveries_are_accepted_at_the_first_attempt_both_ways(self):
        for compression in ("signed_as_sent", "signed_decoded"):
            self.sandbox.control(
                "POST",
                "/_sandbox/webhooks",
                {
                    "url": self.base_url() + WEBHOOK,
                    "secret": self.sandbox.webhook_secret,
                    "events": ["CONNECTION_SYNCED"],
                    "compression": compression,
                },
            )
        self.sandbox.control("POST", "/_sandbox/clock", {"advance_seconds": 2 * 86400})
        with self.allow_requests(all_requests=True):
            self.sandbox.control("POST", f"/_sandbox/connections/{self.connection.powens_id}/sync")
            deadline = time.monotonic() + 15
            while True:
                deliveries = self.sandbox.control("GET", "/_sandbox/webhooks/deliveries")
                if len([item for item in deliveries if item["status"] == 200]) == 2:
                    break
                self.assertLess(time.monotonic(), deadline, f"no successful delivery: {deliveries}")
                time.sleep(0.1)
        self.assertEqual([(item["attempt"], item["status"]) for item in deliveries], [(1, 200), (1, 200)])
        self.assertEqual(self.events().mapped("event_type"), ["CONNECTION_SYNCED", "CONNECTION_SYNCED"])
