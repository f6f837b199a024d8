"""The /_sandbox/ control API used by tests and demos to set up data, move time and inject failures."""

import datetime as dt
import os
from decimal import Decimal, InvalidOperation

from werkzeug.routing import Rule

from . import bank_data, connectors, serializers
from .api import request_body, truthy
from .autopilot import DEFAULT_BANK, DEFAULT_PASSWORD, Autopilot
from .clock import format_datetime, parse_datetime
from .config import NAIVE_TIMEZONES
from .engine import DEFAULT_SOURCES
from .errors import ApiError, invalid_value, missing_parameter, not_found

CONTROL_STATES = {"ok": None, "otp": "SCARequired"}


def health(sandbox, request):
    """Up and answering; the process id lets a launcher stop a sandbox that is not its child."""
    return {"status": "ok", "pid": os.getpid()}


def reset(sandbox, request):
    sandbox.reset()
    return {"status": "ok"}


def snapshot(sandbox, request):
    sandbox.snapshot()
    return {"status": "ok"}


def restore(sandbox, request):
    sandbox.restore()
    return {"status": "ok"}


def create_user(sandbox, request):
    user, token = sandbox.auth.create_user(permanent=True)
    return {"id_user": user["id"], "auth_token": token}


def create_connection(sandbox, request, id_user):
    """Same machinery as the webview; test-bank passwords give the matching state (sca -> SCARequired)."""
    body = request_body(request)
    if id_user not in sandbox.store.users:
        raise not_found("User")
    connector = connectors.find(body.get("connector_uuid") or body.get("connector_id") or "")
    if connector is None:
        raise invalid_value("connector_uuid or connector_id must name a known connector")
    login = str(body.get("login") or "demo")
    outcome = connectors.credentials_outcome(connector, str(body.get("password") or ""))
    specs = bank_data.discover_accounts(sandbox.config.seed, connector, login, int(body.get("accounts", 2)))
    sources = body.get("sources") or DEFAULT_SOURCES
    if not isinstance(sources, list | tuple) or not all(isinstance(name, str) and name for name in sources):
        raise invalid_value("sources must be a list of source names, e.g. [\"openapi\", \"directaccess\"]")
    conn = sandbox.engine.open_connection(
        id_user,
        connector,
        login,
        specs,
        set(range(len(specs))),
        state=CONTROL_STATES.get(outcome, outcome),
        months=int(body.get("months", sandbox.config.history_months)),
        sources=tuple(sources),
    )
    return serializers.connection(sandbox.store, conn, {"accounts", "all_accounts", "sources"})


def add_transactions(sandbox, request, id_account):
    """``count`` movements dated ``date`` (today by default), or spread evenly over the ``days``
    days ending then: a year of history for hundreds of accounts in one call each."""
    account = sandbox.store.accounts.get(id_account)
    if account is None:
        raise not_found("Account")
    body = request_body(request)
    try:
        last_day = dt.date.fromisoformat(body["date"]) if body.get("date") else sandbox.clock.today()
    except ValueError:
        raise invalid_value("date must be YYYY-MM-DD") from None
    count, days = int(body.get("count", 1)), int(body.get("days", 1))
    if days < 1:
        raise invalid_value("days must be at least 1")
    coming = truthy(body.get("coming", False))
    rows = []
    for offset in range(days):
        share = count // days + (offset < count % days)
        day = last_day - dt.timedelta(days=offset)
        rows += sandbox.engine.add_transactions(account, share, coming, day)
    return {"ids": [row["id"] for row in rows]}


def set_balance(sandbox, request, id_account):
    """The bank states a booked balance its listing does not explain: Powens reads an account's
    `balance` and its transactions separately (*Bank accounts*, *Bank transactions*), nothing
    documents that one is the sum of the other, and a bank may leave an operation out of its list
    (or hold one from before the history). The listed rows stay as they are."""
    account = existing(sandbox.store.accounts, id_account, "Account")
    body = request_body(request)
    if "balance" not in body:
        raise missing_parameter("balance")
    try:
        wanted = Decimal(str(body["balance"])).quantize(Decimal("0.01"))
    except InvalidOperation:
        raise invalid_value("balance must be a decimal amount") from None
    current = serializers.account(sandbox.store, account)["balance"]
    account["_opening_balance"] += wanted - current
    return serializers.account(sandbox.store, account)


def existing(table: dict, key, what: str) -> dict:
    """The row ``key`` of a store table, or the API's 404 naming ``what``."""
    row = table.get(key)
    if row is None:
        raise not_found(what)
    return row


def book_transaction(sandbox, request, id_transaction):
    tx = existing(sandbox.store.transactions, id_transaction, "Transaction")
    if not tx["coming"] or tx["deleted"] is not None:
        raise ApiError(409, "invalidValue", "Only a pending (coming), non-deleted transaction can be booked")
    booked = sandbox.engine.book(tx, keep_id=truthy(request_body(request).get("keep_id", False)))
    return {"id": booked["id"]}


def delete_transaction(sandbox, request, id_transaction):
    tx = existing(sandbox.store.transactions, id_transaction, "Transaction")
    sandbox.engine.mark_deleted(tx)
    return {"id": tx["id"], "deleted": tx["deleted"]}


def edit_transaction(sandbox, request, id_transaction):
    """Powens changes a transaction it already served (the bank or its categorisation rewrote it):
    the given fields take the given values, `last_update` becomes now unless the body sets it (to null
    too, which Powens allows). Old rows come back this way to a `last_update` pull, whatever their date."""
    tx = existing(sandbox.store.transactions, id_transaction, "Transaction")
    body = request_body(request)
    unknown = set(body) - set(tx)
    if unknown or "id" in body:
        raise invalid_value(f"Not editable: {', '.join(sorted(unknown | ({'id'} & set(body))))}")
    sandbox.engine.edit(tx, body)
    return serializers.transaction(tx)


def settings(sandbox, request):
    """The switches where Powens' documentation is silent (README): a first-sync delay (seconds of the
    sandbox clock), the zone of naive datetimes, whether the webview refuses a path without a language."""
    if request.method == "POST":
        body = request_body(request)
        unknown = set(body) - set(sandbox.settings())
        if unknown:
            raise invalid_value(f"Unknown settings: {', '.join(sorted(unknown))}")
        if "naive_timezone" in body and body["naive_timezone"] not in NAIVE_TIMEZONES:
            raise invalid_value(f"naive_timezone must be one of {', '.join(NAIVE_TIMEZONES)}")
        if "first_sync_delay" in body:
            body["first_sync_delay"] = float(body["first_sync_delay"])
        if "webview_requires_language" in body:
            body["webview_requires_language"] = truthy(body["webview_requires_language"])
        sandbox.apply_settings(body)
    return sandbox.settings()


def set_connection_state(sandbox, request, id_connection):
    conn = existing(sandbox.store.connections, id_connection, "Connection")
    body = request_body(request)
    if "state" not in body:
        raise missing_parameter("state")
    sandbox.engine.set_state(conn, body["state"], body.get("error_message"))
    return serializers.connection(sandbox.store, conn, {"sources"})


def set_consent(sandbox, request, id_connection):
    """Moves the consent date (`access_expire`) of one source (`source`: its name) or of all of them."""
    conn = existing(sandbox.store.connections, id_connection, "Connection")
    body = request_body(request)
    try:
        access_expire = parse_datetime(str(body.get("access_expire")))
    except ValueError:
        raise invalid_value("access_expire must be 'YYYY-MM-DD HH:MM:SS' (Paris time)") from None
    if body.get("source") and body["source"] not in {source["name"] for source in conn["sources"]}:
        raise not_found("Source")
    sandbox.engine.set_consent(conn, format_datetime(access_expire), body.get("source"))
    return serializers.connection(sandbox.store, conn, {"sources"})


def sync_connection(sandbox, request, id_connection):
    """A background (unattended) sync: psu_requested=false, so a lapsed consent is not renewed."""
    conn = existing(sandbox.store.connections, id_connection, "Connection")
    sandbox.engine.sync(conn, psu_requested=False)
    return serializers.connection(sandbox.store, conn, {"sources"})


def clock(sandbox, request):
    if request.method == "POST":
        body = request_body(request)
        if "now" in body:
            try:
                sandbox.clock.set_now(parse_datetime(body["now"]))
            except (TypeError, ValueError):
                raise invalid_value("now must be 'YYYY-MM-DD HH:MM:SS' (Paris time)") from None
        elif "advance_seconds" in body:
            sandbox.clock.advance(float(body["advance_seconds"]))
        else:
            raise missing_parameter("advance_seconds or now")
        sandbox.engine.tick()
    return {"now": sandbox.clock.now_text()}


def faults(sandbox, request):
    if request.method == "POST":
        return sandbox.faults.add(request_body(request))
    if request.method == "DELETE":
        sandbox.faults.clear()
    return sandbox.faults.pending()


def webhooks(sandbox, request):
    if request.method == "GET":
        return {"webhooks": list(sandbox.store.webhooks.values())}
    body = request_body(request)
    if not body.get("url"):
        raise missing_parameter("url")
    try:
        webhook = sandbox.notifier.register(
            body["url"],
            body.get("events"),
            body.get("secret"),
            body.get("compression"),
            body.get("retry_date") or "fresh",
        )
    except ValueError as error:
        raise invalid_value(str(error)) from None
    return {"id": webhook["id"]}


def deliveries(sandbox, request):
    return list(sandbox.notifier.deliveries)


def autopilot(sandbox, request):
    """Switches the webview autopilot of a running sandbox, so each browser test chooses; omitted settings take
    their defaults, not the previous values."""
    if request.method == "POST":
        body = request_body(request)
        if "enabled" not in body:
            raise missing_parameter("enabled")
        bank = DEFAULT_BANK
        if body.get("bank"):
            bank = connectors.find(body["bank"]) or connectors.find_by_name(str(body["bank"]))
            if bank is None:
                raise invalid_value("bank must be a connector uuid or name")
        sandbox.autopilot = Autopilot(truthy(body["enabled"]), str(body.get("password") or DEFAULT_PASSWORD), bank)
    return sandbox.autopilot.describe()


def calls(sandbox, request):
    if request.method == "DELETE":
        sandbox.calls.clear()
    return list(sandbox.calls)


RULES = [
    Rule("/_sandbox/health", methods=["GET"], endpoint=health),
    Rule("/_sandbox/reset", methods=["POST"], endpoint=reset),
    Rule("/_sandbox/snapshot", methods=["POST"], endpoint=snapshot),
    Rule("/_sandbox/restore", methods=["POST"], endpoint=restore),
    Rule("/_sandbox/users", methods=["POST"], endpoint=create_user),
    Rule("/_sandbox/users/<int:id_user>/connections", methods=["POST"], endpoint=create_connection),
    Rule("/_sandbox/accounts/<int:id_account>/transactions", methods=["POST"], endpoint=add_transactions),
    Rule("/_sandbox/accounts/<int:id_account>/balance", methods=["POST"], endpoint=set_balance),
    Rule("/_sandbox/transactions/<int:id_transaction>/book", methods=["POST"], endpoint=book_transaction),
    Rule("/_sandbox/transactions/<int:id_transaction>/delete", methods=["POST"], endpoint=delete_transaction),
    Rule("/_sandbox/transactions/<int:id_transaction>/edit", methods=["POST"], endpoint=edit_transaction),
    Rule("/_sandbox/settings", methods=["GET", "POST"], endpoint=settings),
    Rule("/_sandbox/connections/<int:id_connection>/state", methods=["POST"], endpoint=set_connection_state),
    Rule("/_sandbox/connections/<int:id_connection>/sync", methods=["POST"], endpoint=sync_connection),
    Rule("/_sandbox/connections/<int:id_connection>/consent", methods=["POST"], endpoint=set_consent),
    Rule("/_sandbox/clock", methods=["GET", "POST"], endpoint=clock),
    Rule("/_sandbox/faults", methods=["GET", "POST", "DELETE"], endpoint=faults),
    Rule("/_sandbox/webhooks", methods=["GET", "POST"], endpoint=webhooks),
    Rule("/_sandbox/webhooks/deliveries", methods=["GET"], endpoint=deliveries),
    Rule("/_sandbox/calls", methods=["GET", "DELETE"], endpoint=calls),
    Rule("/_sandbox/autopilot", methods=["GET", "POST"], endpoint=autopilot),
]
