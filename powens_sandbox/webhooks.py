"""Outgoing webhooks: payloads built under the store lock, delivered by a background thread with retries.

Each delivery is signed as Powens documents it (BI-Signature = base64 HMAC-SHA256 over
"POST.<url path>.<BI-Signature-Date>.<raw body>") and carries the user's permanent token as Bearer.
What the documentation leaves open is a switch of each registered webhook (README, "Webhooks:
what Powens leaves open"): whether a gzip body is signed as sent or as decoded, and whether a
retry is dated again or keeps the date of the first attempt.
"""

import base64
import datetime as dt
import gzip
import hashlib
import hmac
import http.client
import queue
import threading
import time
import urllib.parse

from . import jsonio, serializers

SUPPORTED_EVENTS = ("CONNECTION_SYNCED", "ACCOUNT_SYNCED", "CONNECTION_DELETED", "USER_DELETED")
# None: JSON as is (Powens' default); "signed_as_sent": gzip, signature over the gzip bytes;
# "signed_decoded": gzip, signature over the JSON before compression.
COMPRESSIONS = (None, "signed_as_sent", "signed_decoded")
# "fresh": each attempt signed at its own date; "first": every attempt keeps the first one's.
RETRY_DATES = ("fresh", "first")
MAX_ATTEMPTS = 5
FIRST_RETRY_DELAY = 0.2
DELIVERY_TIMEOUT = 5


def signature(secret: str, url: str, date: str, body: bytes) -> str:
    message = f"POST.{urllib.parse.urlsplit(url).path}.{date}.".encode() + body
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


class WebhookNotifier:
    def __init__(self, store, clock, config):
        self.store = store
        self.clock = clock
        self.config = config
        self.deliveries: list[dict] = []
        self._generation = 0
        self._jobs: queue.Queue = queue.Queue()
        threading.Thread(target=self._deliver_forever, name="webhook-sender", daemon=True).start()

    def register(
        self,
        url: str,
        events: list[str] | None,
        secret: str | None,
        compression: str | None = None,
        retry_date: str = "fresh",
    ) -> dict:
        if compression not in COMPRESSIONS or retry_date not in RETRY_DATES:
            raise ValueError(f"compression is one of {COMPRESSIONS}, retry_date one of {RETRY_DATES}")
        webhook = {
            "id": self.store.next_id("webhooks"),
            "url": url,
            "events": list(events or SUPPORTED_EVENTS),
            "secret": secret or self.config.webhook_secret,
            "compression": compression,
            "retry_date": retry_date,
        }
        self.store.webhooks[webhook["id"]] = webhook
        return webhook

    def reset(self) -> None:
        """Forgets deliveries; queued jobs of the previous generation are dropped instead of sent."""
        self._generation += 1
        self.deliveries = []

    # --- events ------------------------------------------------------------------------------------------
    def connection_synced(self, conn: dict, new_rows: dict[int, list[dict]]) -> None:
        user = self.store.users[conn["id_user"]]
        accounts = []
        for account in self.store.connection_accounts(conn["id"]):
            if account["disabled"] is None:
                data = serializers.account(self.store, account)
                data["transactions"] = [serializers.transaction(tx) for tx in new_rows.get(account["id"], [])]
                accounts.append(data)
                self.emit("ACCOUNT_SYNCED", user, data)
        connection = serializers.connection(self.store, conn, {"connector", "sources"})
        connection["accounts"] = accounts
        self.emit("CONNECTION_SYNCED", user, {"user": serializers.user(user), "connection": connection})

    def connection_deleted(self, conn: dict) -> None:
        user = self.store.users.get(conn["id_user"])
        if user is not None:
            self.emit("CONNECTION_DELETED", user, serializers.connection(self.store, conn))

    def user_deleted(self, user: dict) -> None:
        self.emit("USER_DELETED", user, serializers.user(user))

    def emit(self, event: str, user: dict, payload: dict) -> None:
        """Queues the event for every webhook registered for it; held back while the user is temporary."""
        if not user["_permanent"]:
            user["_pending_events"].append([event, payload])
            return
        token = self.store.permanent_token(user["id"])
        for webhook in self.store.webhooks.values():
            if event in webhook["events"]:
                body = dict(payload, id_webhook_data=self.store.next_id("webhook_data"))
                self._jobs.put((self._generation, event, webhook, token, jsonio.dumps(body).encode()))

    def release_pending(self, user: dict) -> None:
        pending, user["_pending_events"] = user["_pending_events"], []
        for event, payload in pending:
            self.emit(event, user, payload)

    # --- delivery ----------------------------------------------------------------------------------------
    def _deliver_forever(self) -> None:
        while True:
            job = self._jobs.get()
            first_date = None
            for attempt in range(1, MAX_ATTEMPTS + 1):
                date = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
                if job[2]["retry_date"] == "first":
                    first_date = first_date or date
                    date = first_date
                if job[0] != self._generation or self._attempt(job, attempt, date) or attempt == MAX_ATTEMPTS:
                    break
                time.sleep(FIRST_RETRY_DELAY * 2 ** (attempt - 1))

    def _attempt(self, job, attempt: int, date: str) -> bool:
        """One POST; http.client keeps the exact header spelling (BI-Signature) that urllib would re-case."""
        _generation, event, webhook, token, json_body = job
        url, secret, compression = webhook["url"], webhook["secret"], webhook["compression"]
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}", "BI-Signature-Date": date}
        body = json_body
        if compression:
            body = gzip.compress(json_body, mtime=0)
            headers["Content-Encoding"] = "gzip"
        signed = body if compression == "signed_as_sent" else json_body
        headers["BI-Signature"] = signature(secret, url, date, signed)
        parts = urllib.parse.urlsplit(url)
        connection_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        status, error = None, None
        try:
            connection = connection_class(parts.netloc, timeout=DELIVERY_TIMEOUT)
            try:
                connection.request("POST", parts.path + (f"?{parts.query}" if parts.query else ""), body, headers)
                status = connection.getresponse().status
            finally:
                connection.close()
        except (OSError, http.client.HTTPException) as exc:
            error = str(exc)
        with self.store.lock:
            if job[0] == self._generation:
                self.deliveries.append(
                    {
                        "event": event,
                        "url": url,
                        "status": status,
                        "attempt": attempt,
                        "at": self.clock.now_text(),
                        "signature_date": date,
                        "error": error,
                    }
                )
        return status is not None and 200 <= status < 300
