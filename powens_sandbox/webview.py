"""Hosted webview flows (/{lang}/connect, /reconnect, /manage) as a server-side state machine.

The flow state lives in a session record whose id travels in a hidden form field, so no cookies are needed.
"""

import datetime as dt
import secrets
import urllib.parse

from werkzeug.routing import Rule
from werkzeug.utils import redirect
from werkzeug.wrappers import Response

from . import bank_data, connectors
from . import webview_pages as pages
from .clock import format_datetime, parse_datetime
from .i18n import LANGUAGES, pick_language, texts
from .transactions_query import flag

SESSION_LIFETIME = dt.timedelta(minutes=30)
DISCOVERED_ACCOUNTS = 3
REPAIR_WITH_CREDENTIALS = {"wrongpass", "passwordExpired"}


def html(body: str, status: int = 200) -> Response:
    return Response(body, status=status, mimetype="text/html")


def comma_list(value: str | None) -> list[str]:
    return [item.strip() for item in (value or "").split(",") if item.strip()]


def valid_redirect_uri(uri: str | None) -> bool:
    parts = urllib.parse.urlsplit(uri or "")
    return parts.scheme in ("http", "https") and bool(parts.netloc) and not parts.query and not parts.fragment


class WebviewSessions:
    def __init__(self, clock):
        self.clock = clock
        self.sessions: dict[str, dict] = {}

    def open(self, **values) -> dict:
        session = dict(
            values,
            id=secrets.token_urlsafe(16),
            step=None,
            error=None,
            notice=None,
            search="",
            connector=None,
            login="",
            connection_ids=[],
            expires=format_datetime(self.clock.now() + SESSION_LIFETIME),
        )
        self.sessions[session["id"]] = session
        return session

    def get(self, session_id: str | None) -> dict | None:
        session = self.sessions.get(session_id or "")
        if session is None or self.clock.now() >= parse_datetime(session["expires"]):
            return None
        return session

    def close(self, session: dict) -> None:
        self.sessions.pop(session["id"], None)

    def clear(self) -> None:
        self.sessions.clear()


class Flow:
    """One request of a webview flow: reads the session, applies the posted action, renders or redirects."""

    def __init__(self, sandbox, request, session: dict):
        self.sandbox = sandbox
        self.request = request
        self.session = session
        self.t = texts(session["lang"])
        self.params = session["params"]

    # --- outcomes ----------------------------------------------------------------------------------------
    def back_to_client(self, **values) -> Response:
        self.sandbox.sessions.close(self.session)
        if self.params.get("state") is not None:
            values["state"] = self.params["state"]
        query = urllib.parse.urlencode({key: value for key, value in values.items() if value is not None})
        return redirect(self.params["redirect_uri"] + ("?" + query if query else ""), code=302)

    def fail(self, error: str, description: str) -> Response:
        return self.back_to_client(error=error, error_description=description)

    def finish_connect(self) -> Response:
        ids = self.session["connection_ids"]
        code = None
        if self.session["anonymous"]:
            code = self.sandbox.auth.issue_code(self.user, single_use=False)["code"]
        many = int(self.params.get("max_connections") or 1) > 1
        return self.back_to_client(
            connection_id=ids[0], connection_ids=",".join(map(str, ids)) if many else None, code=code
        )

    @property
    def user(self) -> dict:
        return self.sandbox.store.users[self.session["id_user"]]

    @property
    def connector(self) -> connectors.Connector:
        return connectors.find(self.session["connector"])

    @property
    def connection(self) -> dict:
        return self.sandbox.store.connections[self.session["connection_id"]]

    # --- rendering ---------------------------------------------------------------------------------------
    def render(self) -> Response:
        """The current step's page; in autopilot mode it plays itself, unless it shows an error."""
        shows_error = self.session["error"] is not None
        return html(self.sandbox.autopilot.steer(self.step_page(), self.session["step"], stopped=shows_error))

    def step_page(self) -> str:
        session, t, lang, url = self.session, self.t, self.session["lang"], self.request.path
        step = session["step"]
        error, session["error"] = session["error"], None
        if step == "picker":
            return pages.bank_picker(t, lang, url, session["id"], self.offered_banks(), session["search"])
        if step == "credentials":
            return pages.credentials(
                t, lang, url, session["id"], self.connector, session["flow"] == "connect", error, session["login"]
            )
        if step == "otp":
            return pages.otp(t, lang, url, session["id"], error)
        if step == "decoupled":
            return pages.decoupled(t, lang, url, session["id"])
        if step == "accounts":
            return pages.account_choice(t, lang, url, session["id"], self.account_choices())
        if step == "another":
            return pages.another_bank(t, lang, url, session["id"])
        notice, session["notice"] = session["notice"], None
        return pages.manage(
            t, lang, url, session["id"], self.managed_connections(), notice, bool(self.params.get("redirect_uri"))
        )

    def offered_banks(self) -> list[connectors.Connector]:
        wanted = set(comma_list(self.params.get("connector_uuids"))) | set(comma_list(self.params.get("connector_ids")))
        capabilities = set(comma_list(self.params.get("connector_capabilities")) or ["bank"])
        return [
            bank
            for bank in connectors.search(self.session["search"])
            if capabilities <= set(bank.capabilities) and (not wanted or {bank.uuid, str(bank.id)} & wanted)
        ]

    def discovered_accounts(self) -> list:
        return bank_data.discover_accounts(
            self.sandbox.config.seed, self.connector, self.session["login"], DISCOVERED_ACCOUNTS
        )

    def account_choices(self) -> list[tuple[int, object, bool]]:
        ibans = {iban.replace(" ", "").upper() for iban in comma_list(self.params.get("account_ibans"))}
        types = set(comma_list(self.params.get("account_types")))
        return [
            (index, spec, (not ibans or (spec.iban or "") in ibans) and (not types or spec.type in types))
            for index, spec in enumerate(self.discovered_accounts())
        ]

    def managed_connections(self) -> list[tuple[dict, str, list[dict]]]:
        store = self.sandbox.store
        only = self.session.get("connection_id")
        return [
            (conn, connectors.find(conn["connector_uuid"]).name, store.connection_accounts(conn["id"]))
            for conn in store.user_connections(self.session["id_user"])
            if only in (None, conn["id"])
        ]

    # --- actions -----------------------------------------------------------------------------------------
    def handle(self, form) -> Response:
        action = form.get("action")
        flow = self.session["flow"]
        if action == "cancel" and flow != "manage":
            return self.fail("access_denied", "The user cancelled the flow")
        handler = getattr(self, f"on_{self.session['step']}")
        return handler(action, form) or self.render()

    def on_picker(self, action, form):
        if action == "pick" and connectors.find(form.get("connector")):
            self.session.update(connector=form["connector"], step="credentials")
        else:
            self.session["search"] = form.get("search", "")

    def on_credentials(self, action, form):
        if action == "decline_terms":
            return self.fail("tos_declined", "The user declined the terms of service")
        if self.session["flow"] == "connect" and form.get("accept_terms") != "yes":
            self.session["error"] = self.t["must_accept_terms"]
            return None
        self.session["login"] = form.get("login", "")
        outcome = connectors.credentials_outcome(self.connector, form.get("password", ""))
        if outcome == "wrongpass":
            self.session["error"] = self.t["wrongpass"]
        elif outcome in ("otp", "decoupled"):
            self.session["step"] = outcome
        elif outcome == "ok":
            return self.authenticated()
        else:
            return self.connection_in_error(outcome)
        return None

    def on_otp(self, action, form):
        if form.get("otp", "").strip() == connectors.TEST_OTP_CODE:
            return self.authenticated()
        self.session["error"] = self.t["otp_wrong"]
        return None

    def on_decoupled(self, action, form):
        return self.authenticated() if action == "resume" else None

    def on_accounts(self, action, form):
        allowed = {index for index, _spec, is_allowed in self.account_choices() if is_allowed}
        chosen = {int(value) for value in form.getlist("account") if value.isdigit()} & allowed
        conn = self.sandbox.engine.open_connection(
            self.session["id_user"], self.connector, self.session["login"], self.discovered_accounts(), chosen
        )
        return self.connection_added(conn)

    def on_another(self, action, form):
        if action == "another":
            self.session.update(step="picker", search="", connector=None, login="")
            return None
        return self.finish_connect()

    def on_manage(self, action, form):
        store, engine = self.sandbox.store, self.sandbox.engine
        if action == "close":
            return (
                self.back_to_client()
                if self.params.get("redirect_uri")
                else html(pages.closed(self.t, self.session["lang"]))
            )
        conn = store.connections.get(int(form.get("connection", "0") or 0))
        if conn is None or conn["id_user"] != self.session["id_user"]:
            return None
        if action == "delete":
            engine.delete_connection(conn)
            self.session["notice"] = self.t["deleted"]
        elif action == "save":
            ticked = set(form.getlist("account"))
            for account in store.connection_accounts(conn["id"]):
                engine.set_account_enabled(account, str(account["id"]) in ticked)
            self.session["notice"] = self.t["saved"]
        return None

    # --- transitions -------------------------------------------------------------------------------------
    def authenticated(self):
        if self.session["flow"] == "connect":
            self.session["step"] = "accounts"
            return None
        self.sandbox.engine.repair(self.connection)
        return self.back_to_client()

    def connection_in_error(self, state: str):
        """Bank-side problems (actionNeeded, passwordExpired, websiteUnavailable) still create the connection,
        with its accounts discovered but disabled, as Powens does; the client learns the state from the API."""
        engine = self.sandbox.engine
        if self.session["flow"] != "connect":
            engine.set_state(self.connection, state, engine.state_message(state))
            return self.back_to_client()
        conn = engine.open_connection(
            self.session["id_user"],
            self.connector,
            self.session["login"],
            self.discovered_accounts(),
            set(),
            state=state,
        )
        return self.connection_added(conn)

    def connection_added(self, conn: dict):
        self.session["connection_ids"].append(conn["id"])
        if len(self.session["connection_ids"]) < int(self.params.get("max_connections") or 1):
            self.session["step"] = "another"
            return None
        return self.finish_connect()


def start(sandbox, request, flow: str, lang: str) -> Response:
    """Validates the documented query parameters and opens a session on the first step."""
    t = texts(lang)
    params = request.args.to_dict()
    if params.get("client_id") != sandbox.config.client_id:
        return html(pages.error_page(t, lang, t["unknown_client"]), 400)
    if (flow != "manage" or "redirect_uri" in params) and not valid_redirect_uri(params.get("redirect_uri")):
        return html(pages.error_page(t, lang, t["bad_redirect"]), 400)
    session = sandbox.sessions.open(
        flow=flow, lang=lang, params=params, id_user=None, anonymous=False, connection_id=None
    )
    flow_request = Flow(sandbox, request, session)

    def refuse(message_key: str) -> Response:
        if params.get("redirect_uri"):
            return flow_request.fail("session_expired", t[message_key])
        sandbox.sessions.close(session)
        return html(pages.error_page(t, lang, t[message_key]), 400)

    if params.get("code"):
        user = sandbox.auth.redeem_code(params["code"])
        if user is None:
            return refuse("bad_code")
        session["id_user"] = user["id"]
    elif flow == "connect":
        user, _token = sandbox.auth.create_user(permanent=False)
        session.update(id_user=user["id"], anonymous=True)
    else:
        return refuse("missing_code")

    if flow == "connect":
        offered = flow_request.offered_banks()
        if len(offered) == 1 and (params.get("connector_uuids") or params.get("connector_ids")):
            session.update(step="credentials", connector=offered[0].uuid)
        else:
            session["step"] = "picker"
        return flow_request.render()
    connection_id = params.get("connection_id", "")
    conn = sandbox.store.connections.get(int(connection_id)) if connection_id.isdigit() else None
    if conn is not None and conn["id_user"] == session["id_user"]:
        session["connection_id"] = conn["id"]
    elif flow == "reconnect" or connection_id:
        return refuse("unknown_connection")
    if flow == "manage":
        session["step"] = "manage"
    else:
        session["connector"] = conn["connector_uuid"]
        session["login"] = conn["_login"]
        if (
            conn["state"] is None
            and not sandbox.config.reconnect_renews_consent
            and not flag(request.args, "reset_credentials")
        ):
            # "The service will try to recover the connection and prompt the user only with outdated or transient
            # information" (webview, reconnect): nothing is outdated, so nothing is asked and the consent is not
            # renewed (refresh_auth is the documented early renewal). --reconnect-renews-consent plays the other side.
            sandbox.engine.sync(conn, psu_requested=True)
            return flow_request.back_to_client()
        if flag(request.args, "reset_credentials") or conn["state"] in REPAIR_WITH_CREDENTIALS:
            session["step"] = "credentials"
        else:
            session["step"] = "decoupled" if conn["state"] == "decoupled" else "otp"
    return flow_request.render()


def favicon(sandbox, request) -> Response:
    """Nothing, rather than a 404 that browsers show as a console error (browser tests watch the console)."""
    return Response(status=204)


def webview(sandbox, request, flow: str, lang: str | None = None) -> Response:
    if lang is None and sandbox.config.webview_requires_language:
        # Powens documents the language segment as optional, but a live-tested client (pypowens 0.2.0)
        # met a CloudFront 503 without it: refused here too, unless the switch says otherwise.
        return Response(
            "503 Service Unavailable: the webview path names no language (/{lang}/{flow}).",
            status=503,
            mimetype="text/plain",
        )
    lang = pick_language(lang, request.headers.get("Accept-Language", ""))
    if request.method == "GET":
        return start(sandbox, request, flow, lang)
    session = sandbox.sessions.get(request.form.get("session"))
    if session is None:
        t = texts(lang)
        return html(pages.error_page(t, lang, t["session_expired"]), 400)
    return Flow(sandbox, request, session).handle(request.form)


LANGUAGE_SEGMENT = "<any(" + ",".join(LANGUAGES) + "):lang>"
FLOW_SEGMENT = "<any(connect,reconnect,manage):flow>"
RULES = [
    Rule("/favicon.ico", methods=["GET"], endpoint=favicon),
    Rule("/" + FLOW_SEGMENT, methods=["GET", "POST"], endpoint=webview),
    Rule(f"/{LANGUAGE_SEGMENT}/{FLOW_SEGMENT}", methods=["GET", "POST"], endpoint=webview),
]
