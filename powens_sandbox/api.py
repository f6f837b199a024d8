"""Handlers of the Powens REST surface under /2.0/ (auth, users, connectors, connections, accounts, transactions).

Handlers run with the store lock held and return a dict (200), a (status, dict) pair, or None (204).
"""

import json

from werkzeug.routing import Rule

from . import connectors, serializers
from .clock import format_datetime, parse_datetime
from .errors import ApiError, invalid_value, not_found
from .transactions_query import flag, transactions_page


def request_body(request) -> dict:
    """JSON body, or a flat form body (Powens accepts both); an empty body is {}."""
    if request.mimetype == "application/x-www-form-urlencoded":
        return request.form.to_dict()
    raw = request.get_data()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise invalid_value("Request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise invalid_value("Request body must be a JSON object")
    return body


def truthy(value) -> bool:
    return value is True or str(value).lower() in ("true", "1")


def check_client(sandbox, body: dict) -> None:
    if (str(body.get("client_id")), body.get("client_secret")) != (
        sandbox.config.client_id,
        sandbox.config.client_secret,
    ):
        raise ApiError(401, "invalidClient", "Invalid client_id or client_secret")


def bearer_token(request) -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "unauthorized", "Missing Authorization: Bearer <token> header")
    return token.strip()


def current_user(sandbox, request, user_ref: str = "me") -> dict:
    user = sandbox.auth.user_for_token(bearer_token(request))
    if user is None:
        raise ApiError(401, "invalidToken", "Invalid or expired token")
    if user_ref not in ("me", str(user["id"])):
        raise not_found("User")
    return user


def owned_connection(sandbox, user: dict, id_connection: int) -> dict:
    conn = sandbox.store.connections.get(id_connection)
    if conn is None or conn["id_user"] != user["id"]:
        raise not_found("Connection")
    return conn


def visible_accounts(sandbox, request, user: dict, id_connection: int | None = None) -> list[dict]:
    include_hidden = flag(request.args, "all")
    return [
        account
        for account in sandbox.store.user_accounts(user["id"])
        if (id_connection is None or account["id_connection"] == id_connection)
        and (include_hidden or (account["disabled"] is None and account["deleted"] is None))
    ]


def owned_account(sandbox, request, user: dict, id_account: int) -> dict:
    account = next((item for item in visible_accounts(sandbox, request, user) if item["id"] == id_account), None)
    if account is None:
        raise not_found("Account")
    return account


# --- auth & users -----------------------------------------------------------------------------------------
def auth_init(sandbox, request):
    body = request_body(request)
    permanent = "client_id" in body and "client_secret" in body
    if permanent:
        check_client(sandbox, body)
    user, token = sandbox.auth.create_user(permanent)
    return {
        "auth_token": token,
        "type": "permanent" if permanent else "temporary",
        "id_user": user["id"],
        "expires_in": None if permanent else 1800,
    }


def auth_token_code(sandbox, request):
    user = current_user(sandbox, request)
    code_type = request.args.get("type", "requestAccess")
    if code_type not in ("requestAccess", "singleAccess"):
        raise invalid_value("type must be requestAccess or singleAccess")
    return sandbox.auth.issue_code(user, single_use=code_type == "singleAccess")


def auth_token_access(sandbox, request):
    body = request_body(request)
    check_client(sandbox, body)
    user = sandbox.auth.redeem_code(body.get("code"))
    if user is None:
        raise invalid_value("Invalid or expired code")
    return {"access_token": sandbox.auth.issue_token(user, permanent=True), "token_type": "Bearer"}


def auth_renew(sandbox, request):
    body = request_body(request)
    check_client(sandbox, body)
    user = sandbox.store.users.get(int(body.get("id_user") or 0))
    if user is None:
        raise not_found("User")
    if truthy(body.get("revoke_previous")):
        for token in [token for token, record in sandbox.store.tokens.items() if record["id_user"] == user["id"]]:
            sandbox.auth.revoke(token)
    return {"access_token": sandbox.auth.issue_token(user, permanent=True), "token_type": "Bearer"}


def auth_token_delete(sandbox, request):
    current_user(sandbox, request)
    sandbox.auth.revoke(bearer_token(request))


def user_get(sandbox, request, user_ref):
    return serializers.user(current_user(sandbox, request, user_ref))


def user_delete(sandbox, request, user_ref):
    user = current_user(sandbox, request, user_ref)
    for conn in sandbox.store.user_connections(user["id"]):
        sandbox.engine.delete_connection(conn, notify=False)
    sandbox.notifier.user_deleted(user)
    sandbox.auth.forget_user(user["id"])


# --- connectors -------------------------------------------------------------------------------------------
def connectors_list(sandbox, request, list_key="connectors"):
    expand = serializers.expand_param(request.args.get("expand"))
    countries = {code.strip().upper() for code in request.args.get("country_codes", "").split(",") if code.strip()}
    found = connectors.search(request.args.get("search")) if not countries or "FR" in countries else []
    return {list_key: [serializers.connector(item, expand) for item in found]}


def connector_get(sandbox, request, key):
    item = connectors.find(key)
    if item is None:
        raise not_found("Connector")
    return serializers.connector(item, serializers.expand_param(request.args.get("expand")))


# --- connections ------------------------------------------------------------------------------------------
def connection_view(sandbox, request, conn: dict) -> dict:
    return serializers.connection(sandbox.store, conn, serializers.expand_param(request.args.get("expand")))


def connections_list(sandbox, request, user_ref):
    user = current_user(sandbox, request, user_ref)
    return {
        "connections": [connection_view(sandbox, request, conn) for conn in sandbox.store.user_connections(user["id"])]
    }


def connection_get(sandbox, request, user_ref, id_connection):
    user = current_user(sandbox, request, user_ref)
    return connection_view(sandbox, request, owned_connection(sandbox, user, id_connection))


def connection_sync(sandbox, request, user_ref, id_connection):
    """PUT = force a sync; psu_requested=false (user absent) never triggers SCA."""
    conn = owned_connection(sandbox, current_user(sandbox, request, user_ref), id_connection)
    sandbox.engine.sync(conn, psu_requested=request.args.get("psu_requested", "true").lower() != "false")
    return connection_view(sandbox, request, conn)


def connection_update(sandbox, request, user_ref, id_connection):
    """POST = update (resume, otp, credentials, active, expire, refresh_auth); an empty body means sync."""
    conn = owned_connection(sandbox, current_user(sandbox, request, user_ref), id_connection)
    body = request_body(request)
    engine = sandbox.engine
    if not body:
        return connection_sync(sandbox, request, user_ref, id_connection)
    if truthy(body.get("resume")):
        engine.resume(conn)
    if "otp" in body:
        if str(body["otp"]) != connectors.TEST_OTP_CODE:
            engine.set_state(conn, "additionalInformationNeeded")
            raise ApiError(400, "wrongpass", "Invalid one-time code", "Code de validation incorrect")
        engine.repair(conn)
    if "password" in body or "login" in body:
        update_credentials(sandbox, conn, body)
    if truthy(body.get("refresh_auth")):
        engine.refresh_auth(conn)
    if "active" in body:
        conn["active"] = truthy(body["active"])
    if body.get("expire"):
        try:
            conn["expire"] = format_datetime(parse_datetime(body["expire"]))
        except ValueError:
            raise invalid_value("expire must be 'YYYY-MM-DD HH:MM:SS'") from None
    return connection_view(sandbox, request, conn)


def update_credentials(sandbox, conn: dict, body: dict) -> None:
    engine = sandbox.engine
    outcome = connectors.credentials_outcome(connectors.find(conn["connector_uuid"]), body.get("password", ""))
    conn["_login"] = body.get("login", conn["_login"])
    if outcome == "ok":
        engine.repair(conn)
    elif outcome == "otp":
        engine.set_state(conn, "additionalInformationNeeded")
    elif outcome == "decoupled":
        engine.request_sca(conn)
    else:
        engine.set_state(conn, outcome, engine.state_message(outcome))
        if outcome == "wrongpass":
            raise ApiError(400, "wrongpass", "Wrong password", engine.state_message(outcome))


def connection_delete(sandbox, request, user_ref, id_connection):
    conn = owned_connection(sandbox, current_user(sandbox, request, user_ref), id_connection)
    sandbox.engine.delete_connection(conn)


# --- accounts ---------------------------------------------------------------------------------------------
def accounts_list(sandbox, request, user_ref, id_connection=None):
    user = current_user(sandbox, request, user_ref)
    if id_connection is not None:
        owned_connection(sandbox, user, id_connection)
    data = serializers.accounts_list(sandbox.store, visible_accounts(sandbox, request, user, id_connection))
    if "connection" in serializers.expand_param(request.args.get("expand")):
        for item in data["accounts"]:
            item["connection"] = serializers.connection(sandbox.store, sandbox.store.connections[item["id_connection"]])
    return data


def account_get(sandbox, request, user_ref, id_account):
    user = current_user(sandbox, request, user_ref)
    return serializers.account(sandbox.store, owned_account(sandbox, request, user, id_account))


def account_update(sandbox, request, user_ref, id_account):
    user = current_user(sandbox, request, user_ref)
    account = owned_account(sandbox, request, user, id_account)
    body = request_body(request)
    if "disabled" in body:
        sandbox.engine.set_account_enabled(account, not truthy(body["disabled"]))
    for key in ("name", "usage"):
        if key in body:
            account[key] = body[key]
    if "display" in body:
        account["display"] = truthy(body["display"])
    if "bookmarked" in body:
        account["bookmarked"] = int(truthy(body["bookmarked"]))
    return serializers.account(sandbox.store, account)


# --- transactions -----------------------------------------------------------------------------------------
def transactions_list(sandbox, request, user_ref, id_account=None):
    user = current_user(sandbox, request, user_ref)
    enabled = [
        account
        for account in sandbox.store.user_accounts(user["id"])
        if account["disabled"] is None and account["deleted"] is None
    ]
    if not enabled:
        raise ApiError(409, "noAccount", "The user has no enabled bank account")
    if id_account is not None:
        enabled = [owned_account(sandbox, request, user, id_account)]
    account_ids = {account["id"] for account in enabled}
    scope = [tx for tx in sandbox.store.transactions.values() if tx["id_account"] in account_ids]
    return transactions_page(scope, request.args, request.base_url, request.url)


def transaction_get(sandbox, request, user_ref, id_transaction):
    user = current_user(sandbox, request, user_ref)
    tx = sandbox.store.transactions.get(id_transaction)
    account = sandbox.store.accounts.get(tx["id_account"]) if tx else None
    if account is None or account["id_user"] != user["id"] or (tx["deleted"] and not flag(request.args, "all")):
        raise not_found("Transaction")
    return serializers.transaction(tx)


USER = "/2.0/users/<user_ref>"
RULES = [
    Rule("/2.0/auth/init", methods=["POST"], endpoint=auth_init),
    Rule("/2.0/auth/token/code", methods=["GET", "POST"], endpoint=auth_token_code),
    Rule("/2.0/auth/token/access", methods=["POST"], endpoint=auth_token_access),
    Rule("/2.0/auth/renew", methods=["POST"], endpoint=auth_renew),
    Rule("/2.0/auth/token", methods=["DELETE"], endpoint=auth_token_delete),
    Rule("/2.0/connectors", methods=["GET"], endpoint=connectors_list),
    Rule("/2.0/banks", methods=["GET"], endpoint=connectors_list, defaults={"list_key": "banks"}),
    Rule("/2.0/providers", methods=["GET"], endpoint=connectors_list, defaults={"list_key": "providers"}),
    Rule("/2.0/connectors/<key>", methods=["GET"], endpoint=connector_get),
    Rule(USER, methods=["GET"], endpoint=user_get),
    Rule(USER, methods=["DELETE"], endpoint=user_delete),
    Rule(USER + "/connections", methods=["GET"], endpoint=connections_list),
    Rule(USER + "/connections/<int:id_connection>", methods=["GET"], endpoint=connection_get),
    Rule(USER + "/connections/<int:id_connection>", methods=["PUT"], endpoint=connection_sync),
    Rule(USER + "/connections/<int:id_connection>", methods=["POST"], endpoint=connection_update),
    Rule(USER + "/connections/<int:id_connection>", methods=["DELETE"], endpoint=connection_delete),
    Rule(USER + "/connections/<int:id_connection>/accounts", methods=["GET"], endpoint=accounts_list),
    Rule(USER + "/accounts", methods=["GET"], endpoint=accounts_list),
    Rule(USER + "/accounts/<int:id_account>", methods=["GET"], endpoint=account_get),
    Rule(USER + "/accounts/<int:id_account>", methods=["POST", "PUT"], endpoint=account_update),
    Rule(USER + "/transactions", methods=["GET"], endpoint=transactions_list),
    Rule(USER + "/accounts/<int:id_account>/transactions", methods=["GET"], endpoint=transactions_list),
    Rule(USER + "/transactions/<int:id_transaction>", methods=["GET"], endpoint=transaction_get),
]
