"""Command line: python -m powens_sandbox --host 127.0.0.1 --port 8070 [--state FILE] [--seed N] ..."""

import argparse

from .config import SandboxConfig
from .server import run


def parse_arguments(argv=None) -> SandboxConfig:
    defaults = SandboxConfig()
    parser = argparse.ArgumentParser(prog="python -m powens_sandbox", description=__doc__)
    parser.add_argument("--host", default=defaults.host)
    parser.add_argument("--port", type=int, default=defaults.port)
    parser.add_argument("--state", dest="state_file", help="JSON file keeping the data between runs")
    parser.add_argument("--seed", type=int, default=defaults.seed, help="seed of the simulated bank data")
    parser.add_argument("--client-id", default=defaults.client_id)
    parser.add_argument("--client-secret", default=defaults.client_secret)
    parser.add_argument("--webhook-secret", default=defaults.webhook_secret)
    parser.add_argument(
        "--first-sync-delay",
        type=float,
        default=defaults.first_sync_delay,
        help="seconds (sandbox clock) before a new connection's first sync completes",
    )
    parser.add_argument(
        "--connection-expire",
        choices=("purge", "consent"),
        default=defaults.connection_expire,
        help="connection.expire derived from the sources' purge dates (default) or consent dates",
    )
    parser.add_argument(
        "--reconnect-renews-consent",
        action="store_true",
        help="the reconnect webview renews the consent of a healthy connection (undocumented)",
    )
    parser.add_argument(
        "--history-months",
        type=int,
        default=defaults.history_months,
        help="months of history of a connection made in the webview",
    )
    parser.add_argument("--verbose", action="store_true", help="log every request")
    parser.add_argument(
        "--autopilot",
        action="store_true",
        help="webview pages fill in and submit themselves (browser tests); see POST /_sandbox/autopilot",
    )
    parser.add_argument(
        "--stop-with",
        type=int,
        metavar="PID",
        help="stop once process PID has ended (the test run that started the sandbox)",
    )
    return SandboxConfig(**vars(parser.parse_args(argv)))


if __name__ == "__main__":
    run(parse_arguments())
