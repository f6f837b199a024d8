"""Webhooks received by a tiny local HTTP server; signatures checked with an independent HMAC."""

import base64
import gzip
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from test_sandbox_webview import callback_params, connect

from powens_sandbox.driver import WebviewDriver


class Receiver:
    def __init__(self, failures_before_success=0):
        self.received = []
        self.attempts = []
        self.failures_left = failures_before_success
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.attempts.append((self.headers, body))
                failing = receiver.failures_left > 0
                receiver.failures_left -= 1
                if not failing:
                    receiver.received.append((self.path, self.headers, body))
                self.send_response(500 if failing else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/powens"

    def wait_for(self, count, timeout=10):
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.received


@pytest.fixture
def receiver():
    instance = Receiver()
    yield instance
    instance.server.shutdown()


def recorded_deliveries(sandbox, count, timeout=10):
    """The sandbox records a delivery once its answer is back, a moment after the receiver saw it."""
    deadline = time.monotonic() + timeout
    deliveries = sandbox.control("GET", "/_sandbox/webhooks/deliveries")
    while len(deliveries) < count and time.monotonic() < deadline:
        time.sleep(0.05)
        deliveries = sandbox.control("GET", "/_sandbox/webhooks/deliveries")
    return deliveries


def expected_signature(secret, path, date, body):
    message = b".".join([b"POST", path.encode(), date.encode(), body])
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


def test_sync_sends_signed_connection_and_account_synced(sandbox, sandbox_user, sandbox_connection, receiver):
    sandbox.control(
        "POST", "/_sandbox/webhooks", {"url": receiver.url, "events": ["CONNECTION_SYNCED", "ACCOUNT_SYNCED"]}
    )
    sandbox.control("POST", "/_sandbox/clock", {"advance_seconds": 4 * 86400})
    response = requests.put(
        sandbox.api_url + f"/users/me/connections/{sandbox_connection['id']}", headers=sandbox_user["headers"]
    )
    assert response.status_code == 200
    received = receiver.wait_for(3)
    assert len(received) == 3
    by_event = {}
    for path, headers, body in received:
        assert path == "/hooks/powens"
        assert headers["Authorization"] == f"Bearer {sandbox_user['auth_token']}"
        date = headers["BI-Signature-Date"]
        assert date.endswith("Z") and len(date.split(".")[1]) == 7
        assert headers["BI-Signature"] == expected_signature(sandbox.webhook_secret, path, date, body)
        payload = json.loads(body)
        by_event.setdefault("connection" in payload and "CONNECTION" or "ACCOUNT", []).append(payload)
    connection_payload = by_event["CONNECTION"][0]
    assert connection_payload["user"]["id"] == sandbox_user["id_user"]
    assert connection_payload["connection"]["id"] == sandbox_connection["id"]
    accounts = connection_payload["connection"]["accounts"]
    assert len(accounts) == 2 and all("transactions" in item for item in accounts)
    assert sum(len(item["transactions"]) for item in accounts) > 0, "four new days bring new rows"
    account_payloads = by_event["ACCOUNT"]
    assert {item["id"] for item in account_payloads} == {item["id"] for item in accounts}
    ids = [item["id_webhook_data"] for _event, payloads in by_event.items() for item in payloads]
    assert len(set(ids)) == 3
    deliveries = recorded_deliveries(sandbox, 3)
    assert {item["status"] for item in deliveries} == {200}


def test_failed_delivery_is_retried(sandbox, sandbox_connection):
    flaky = Receiver(failures_before_success=2)
    try:
        sandbox.control(
            "POST", "/_sandbox/webhooks", {"url": flaky.url, "events": ["CONNECTION_SYNCED"], "secret": "other-secret"}
        )
        sandbox.control("POST", f"/_sandbox/connections/{sandbox_connection['id']}/sync")
        path, headers, body = flaky.wait_for(1)[0]
        assert headers["BI-Signature"] == expected_signature("other-secret", path, headers["BI-Signature-Date"], body)
        attempts = [(item["attempt"], item["status"]) for item in recorded_deliveries(sandbox, 3)]
        assert attempts == [(1, 500), (2, 500), (3, 200)]
    finally:
        flaky.server.shutdown()


def test_unreachable_endpoint_gives_bounded_attempts(sandbox, sandbox_connection):
    sandbox.control(
        "POST", "/_sandbox/webhooks", {"url": "http://127.0.0.1:9/nowhere", "events": ["CONNECTION_SYNCED"]}
    )
    sandbox.control("POST", f"/_sandbox/connections/{sandbox_connection['id']}/sync")
    deliveries = recorded_deliveries(sandbox, 5)
    assert [item["attempt"] for item in deliveries] == [1, 2, 3, 4, 5]
    assert all(item["status"] is None for item in deliveries)


def test_webview_connect_of_anonymous_user_waits_until_permanent(sandbox, receiver):
    sandbox.control("POST", "/_sandbox/webhooks", {"url": receiver.url, "events": ["CONNECTION_SYNCED"]})
    browser = WebviewDriver(sandbox.webview_url)
    connect(sandbox, None, browser)
    params = callback_params(browser.press("submit", account="0"))
    time.sleep(0.3)
    assert receiver.received == [], "no webhook for a temporary user"
    requests.post(
        sandbox.api_url + "/auth/token/access",
        json={"client_id": sandbox.client_id, "client_secret": sandbox.client_secret, "code": params["code"]},
    )
    payload = json.loads(receiver.wait_for(1)[0][2])
    assert payload["connection"]["id"] == int(params["connection_id"])
    assert payload["connection"]["accounts"][0]["transactions"], "first sync reports the whole history"


@pytest.mark.parametrize("compression", ["signed_as_sent", "signed_decoded"])
def test_gzip_delivery_signed_either_way(sandbox, sandbox_connection, receiver, compression):
    """Powens gzips with webhooks.compression.enabled; which bytes it signs is not documented."""
    sandbox.control(
        "POST", "/_sandbox/webhooks", {"url": receiver.url, "events": ["CONNECTION_SYNCED"], "compression": compression}
    )
    sandbox.control("POST", f"/_sandbox/connections/{sandbox_connection['id']}/sync")
    path, headers, body = receiver.wait_for(1)[0]
    assert headers["Content-Encoding"] == "gzip"
    decoded = gzip.decompress(body)
    assert json.loads(decoded)["connection"]["id"] == sandbox_connection["id"]
    signed = body if compression == "signed_as_sent" else decoded
    assert headers["BI-Signature"] == expected_signature(
        sandbox.webhook_secret, path, headers["BI-Signature-Date"], signed
    )


@pytest.mark.parametrize("switch", [{"compression": "brotli"}, {"retry_date": "never"}])
def test_unknown_switch_is_refused(sandbox, receiver, switch):
    with pytest.raises(requests.HTTPError) as refused:
        sandbox.control("POST", "/_sandbox/webhooks", dict(switch, url=receiver.url))
    assert refused.value.response.status_code == 400


@pytest.mark.parametrize("retry_date", ["fresh", "first"])
def test_retries_dated_again_or_keeping_the_first_date(sandbox, sandbox_connection, retry_date):
    """Whether Powens' flusher dates a retry again is not documented: both, each signed right."""
    flaky = Receiver(failures_before_success=2)
    try:
        sandbox.control(
            "POST", "/_sandbox/webhooks", {"url": flaky.url, "events": ["CONNECTION_SYNCED"], "retry_date": retry_date}
        )
        sandbox.control("POST", f"/_sandbox/connections/{sandbox_connection['id']}/sync")
        flaky.wait_for(1)
        dates = [headers["BI-Signature-Date"] for headers, _body in flaky.attempts]
        assert len(dates) == 3
        assert len(set(dates)) == (1 if retry_date == "first" else 3)
        assert len({json.loads(body)["id_webhook_data"] for _headers, body in flaky.attempts}) == 1
        for headers, body in flaky.attempts:
            assert headers["BI-Signature"] == expected_signature(
                sandbox.webhook_secret, "/hooks/powens", headers["BI-Signature-Date"], body
            )
        deliveries = recorded_deliveries(sandbox, 3)
        assert [item["signature_date"] for item in deliveries] == dates
    finally:
        flaky.server.shutdown()
