"""The WSGI application: wires the parts together, routes requests, applies faults, records calls, persists.

Every handler runs under one lock, so the threaded server never sees half-applied changes.
"""

import logging
import socket
import time
import traceback
from zoneinfo import ZoneInfo

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map
from werkzeug.wrappers import Request, Response

from . import api, control, jsonio, webview
from .auth import AuthService
from .autopilot import Autopilot
from .clock import SandboxClock
from .config import RUNTIME_SETTINGS, SandboxConfig
from .engine import BankEngine
from .errors import ApiError
from .faults import FaultBoard
from .store import SandboxStore
from .webhooks import WebhookNotifier

API_PREFIX = "/2.0/"
READ_METHODS = ("GET", "HEAD", "OPTIONS")
log = logging.getLogger("powens_sandbox")


class Sandbox:
    def __init__(self, config: SandboxConfig):
        self.config = config
        self.startup_settings = {name: getattr(config, name) for name in RUNTIME_SETTINGS}
        self.clock = SandboxClock(zone=config.naive_timezone)
        self.store = SandboxStore()
        self.notifier = WebhookNotifier(self.store, self.clock, config)
        self.auth = AuthService(self.store, self.clock, self.notifier)
        self.engine = BankEngine(self.store, self.clock, config, self.notifier)
        self.faults = FaultBoard()
        self.sessions = webview.WebviewSessions(self.clock)
        self.autopilot = Autopilot(enabled=config.autopilot)
        self.calls: list[dict] = []
        self._snapshot: tuple[str, dict] | None = None
        self.url_map = Map(api.RULES + webview.RULES + control.RULES)
        if config.state_file:
            self._load_state()

    def _load_state(self) -> None:
        try:
            self.clock.offset_seconds = self.store.load(self.config.state_file)
        except FileNotFoundError:
            return

    def save_state(self) -> None:
        if self.config.state_file:
            self.store.save(self.config.state_file, self.clock.offset_seconds)

    def reset(self) -> None:
        """Back to the start-up state, so the autopilot follows --autopilot again."""
        self.store.clear()
        self.apply_settings(self.startup_settings)
        self.clock.reset()
        self.faults.clear()
        self.notifier.reset()
        self.sessions.clear()
        self.autopilot = Autopilot(enabled=self.config.autopilot)
        self.calls.clear()

    def snapshot(self) -> None:
        """Keep the domain as it is (tables, id counters, clock, settings) for `restore`."""
        self._snapshot = (jsonio.dumps(self.store.to_document(self.clock.offset_seconds)), self.settings())

    def restore(self) -> None:
        """Back to the last snapshot, as a test's database goes back to its class's state: what
        one test added, deleted or moved on the clock is gone for the next; faults, calls and
        queued deliveries are dropped as by `reset`."""
        if self._snapshot is None:
            raise ApiError(409, "noSnapshot", "POST /_sandbox/snapshot first")
        document, settings = self._snapshot
        self.clock.offset_seconds = self.store.load_document(jsonio.loads(document))
        self.apply_settings(settings)
        self.faults.clear()
        self.notifier.reset()
        self.calls.clear()

    def apply_settings(self, settings: dict) -> None:
        """Switch behaviours the documentation leaves open (config.RUNTIME_SETTINGS) while running."""
        for name, value in settings.items():
            setattr(self.config, name, value)
        self.clock.zone = ZoneInfo(self.config.naive_timezone)

    def settings(self) -> dict:
        return {name: getattr(self.config, name) for name in RUNTIME_SETTINGS}

    def tick(self) -> None:
        """Called by the server's background ticker, so time-driven events happen without any request."""
        with self.store.lock:
            if self.engine.tick():
                self.save_state()

    # --- WSGI --------------------------------------------------------------------------------------------
    def __call__(self, environ, start_response):
        request = Request(environ)
        is_api = request.path.startswith(API_PREFIX)
        fault = self.faults.take(request.path) if is_api else None
        # Recorded as it arrives: a call held by a timeout fault must not land in the calls of
        # whatever test runs once it is answered.
        call = self._record(request) if is_api else {}
        if fault and fault["kind"] == "drop":
            self._drop_connection(environ)
        if fault and fault["kind"] == "timeout":
            time.sleep(fault["timeout_seconds"])
        response = self._fault_response(fault) if fault and fault["kind"] in ("500", "503", "429") else None
        if response is None:
            response = self._dispatch(request)
        if fault and fault["kind"] == "malformed":
            body = response.get_data()
            response = Response(body[: max(1, len(body) // 2)], status=200, mimetype="application/json")
        call["status"] = response.status_code
        return response(environ, start_response)

    def _dispatch(self, request: Request) -> Response:
        adapter = self.url_map.bind_to_environ(request.environ)
        with self.store.lock:
            try:
                endpoint, values = adapter.match()
                self.engine.tick()
                result = endpoint(self, request, **values)
                response = self._to_response(result)
            except ApiError as error:
                response = self._error_response(error)
            except (NotFound, MethodNotAllowed) as error:
                code = "methodNotAllowed" if isinstance(error, MethodNotAllowed) else "notFound"
                response = self._error_response(ApiError(error.code, code, error.description))
            except HTTPException as error:
                response = self._error_response(ApiError(error.code, "invalidValue", error.description))
            except Exception:  # noqa: BLE001 - a simulator bug must still answer like Powens does
                log.error("unexpected error on %s %s\n%s", request.method, request.path, traceback.format_exc())
                response = self._error_response(ApiError(500, "bug", "Internal sandbox error"))
            if request.method not in READ_METHODS and response.status_code < 500:
                self.save_state()
        return response

    @staticmethod
    def _to_response(result) -> Response:
        if isinstance(result, Response):
            return result
        if result is None:
            return Response(status=204)
        status, body = result if isinstance(result, tuple) else (200, result)
        return Response(jsonio.dumps(body), status=status, mimetype="application/json")

    def _error_response(self, error: ApiError) -> Response:
        body = {
            "code": error.code,
            "description": error.description,
            "message": error.message,
            "request_id": self.store.next_id("requests"),
        }
        return Response(jsonio.dumps(body), status=error.status, mimetype="application/json")

    def _fault_response(self, fault: dict) -> Response:
        kind = fault["kind"]
        code, description = {
            "500": ("bug", "Simulated internal error"),
            "503": ("maintenance", "Simulated maintenance"),
            "429": ("tooManyRequests", "Simulated rate limit"),
        }[kind]
        response = self._error_response(ApiError(int(kind), code, description))
        if kind == "429":
            response.headers["Retry-After"] = str(fault["retry_after"])
        return response

    @staticmethod
    def _drop_connection(environ) -> None:
        """Closes the client socket without an answer; werkzeug treats the error as a dropped connection."""
        connection = environ.get("werkzeug.socket")
        if connection is not None:
            connection.shutdown(socket.SHUT_RDWR)
        raise ConnectionAbortedError("sandbox fault: connection dropped")

    def _record(self, request: Request) -> dict:
        """Record an API call as it arrives; its status is set once answered (None if dropped)."""
        call = {
            "method": request.method,
            "path": request.path,
            "query": request.args.to_dict(),
            "status": None,
            "at": self.clock.now_text(),
        }
        with self.store.lock:
            self.calls.append(call)
        return call
