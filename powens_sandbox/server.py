"""Runs the sandbox on werkzeug's threaded server with a background ticker, quiet logs and clean Ctrl-C."""

import email.utils
import logging
import os
import signal
import threading

from werkzeug.serving import WSGIRequestHandler, make_server

from .app import Sandbox
from .config import SandboxConfig

TICK_SECONDS = 1.0


def stop_on_signal(_signum, _frame) -> None:
    """SIGTERM ends the server like Ctrl-C does, so the final save still runs."""
    raise KeyboardInterrupt


def process_ended(pid: int) -> bool:
    """Whether process ``pid`` has exited, including an exited one not yet reaped (a zombie)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, someone else's
        return False
    try:  # Linux tells a zombie by its state
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rsplit(b")", 1)[-1].split()[0] == b"Z"
    except OSError:
        return False


def request_handler_on(clock):
    """Request handler whose Date header tells the sandbox clock, as Powens' tells its own."""

    class SandboxRequestHandler(WSGIRequestHandler):
        def date_time_string(self, timestamp=None):
            return email.utils.format_datetime(clock.now_utc(), usegmt=True)

    return SandboxRequestHandler


def run(config: SandboxConfig) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.INFO if config.verbose else logging.WARNING)
    sandbox = Sandbox(config)
    server = make_server(
        config.host, config.port, sandbox, threaded=True, request_handler=request_handler_on(sandbox.clock)
    )
    stop = threading.Event()

    def tick_forever():
        while not stop.wait(TICK_SECONDS):
            if config.stop_with and process_ended(config.stop_with):
                server.shutdown()  # serve_forever returns: the state is saved as on SIGTERM
                return
            sandbox.tick()

    threading.Thread(target=tick_forever, name="sandbox-ticker", daemon=True).start()
    logging.getLogger("powens_sandbox").info(
        "Powens sandbox on http://%s:%s/2.0/ (webview /{lang}/connect, control /_sandbox/)",
        config.host,
        server.server_port,
    )
    signal.signal(signal.SIGTERM, stop_on_signal)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        server.server_close()
        with sandbox.store.lock:
            sandbox.save_state()
