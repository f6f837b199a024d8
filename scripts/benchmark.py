"""`make bench` (issue #8): the add-on's retrieval measured beside Odoo's own statement-line create.

Run by `bin/workbench bench [--quick]` on a fresh database with the add-on installed, from the
project directory: `python -m scripts.benchmark --config CONF --database DB [--quick] [--output FILE]`.
It starts its own Powens sandbox, builds the banks and their data, measures, prints progress
and one Markdown table (also written to --output). Every figure comes from this run.

The first syncs and Odoo's own create each run in a process of their own (`first-sync`,
`raw-create` below), so that the peak memory read is the sync's alone and both sides of the
throughput ratio start alike. The syncs with nothing new run here, on a warm registry as in a
long-lived worker, on the banks the two first syncs filled (10,000 and 30,000 lines rather than
the issue's 5,000 and 20,000: building 25,000 more lines would take a third of the 20 minutes,
and a 3-fold span shows the same thing). The webhook deliveries go to a real Odoo HTTP server.
"""

import datetime as dt
import itertools
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path
from unittest.mock import patch

import requests

from powens_sandbox.driver import TEST_BANK_NAME
from powens_sandbox.launcher import start_sandbox, terminate
from scripts import bench_report

PROJECT_ROOT = Path(__file__).resolve().parent.parent
STARTED_AT = float(os.environ.get("BENCH_STARTED_AT") or time.time())
PROGRESS_EVERY = 30  # seconds between two progress lines of a long step
HISTORY_DAYS = 360  # the sandbox movements are spread over the last year
INCREMENTAL_REPEATS = 3  # syncs with nothing new per bank; the median is reported
WEBHOOK_DELIVERIES = 20
WEBHOOK_TRANSACTIONS = 1000  # per delivery, --quick or not: the size the target names
# Ports of the Odoo servers and of the sandbox, unless BENCH_ODOO_PORTS / BENCH_SANDBOX_PORTS
# ("8170-8179") name others: benchmarks run side by side on one machine then stay apart.
ODOO_HTTP_PORTS = ("BENCH_ODOO_PORTS", range(8279, 8379))
SANDBOX_PORTS = ("BENCH_SANDBOX_PORTS", None)  # None: any free port
SERVER_START_TIMEOUT = 180


def progress(message):
    print(f"[{time.time() - STARTED_AT:7.1f} s] {message}", file=sys.stderr, flush=True)


# --- Odoo ------------------------------------------------------------------------------------


def open_registry(config_file, database):
    """Odoo's registry of ``database``, loaded the way `odoo shell` loads it."""
    from odoo.modules.registry import Registry
    from odoo.tools import config

    config.parse_config(["-c", config_file, "-d", database, "--log-level=warn", "--no-http"], setup_logging=True)
    threading.current_thread().dbname = database
    return Registry(database)


class Environment:
    """A superuser environment on a cursor of its own, committed at the end: each step of
    the benchmark starts with an empty record cache, as a cron job or a request does."""

    def __init__(self, registry):
        self.registry = registry

    def __enter__(self):
        from odoo import SUPERUSER_ID, api

        self.cursor = self.registry.cursor()
        return api.Environment(self.cursor, SUPERUSER_ID, {})

    def __exit__(self, *exc_info):
        if exc_info[0] is None:
            self.cursor.commit()
        self.cursor.close()


def checked_sync(journal):
    """``journal``'s retrieval as the cron runs it, committed page by page; raise when it
    failed or found the bank busy, so that a broken sync is never timed as a fast one."""
    from odoo.addons.ingeneo_powens.models.powens_retrieval import SCHEDULED_RUN

    result = journal.env["powens.retrieval"].with_context(**{SCHEDULED_RUN: True})._retrieve(journal, "cron")
    if result.error or result.busy:
        raise RuntimeError(f"the retrieval of {journal.name} failed: {result.error or 'bank busy'}")
    return result.counts


# --- Memory of this process ---------------------------------------------------------------------


class PeakMemory:
    """The resident set's high-water mark of this process, measured from a starting point:
    Linux resets VmHWM to the current RSS when "5" is written to /proc/self/clear_refs."""

    def start(self):
        with open("/proc/self/clear_refs", "w", encoding="ascii") as clear_refs:
            clear_refs.write("5")
        self.baseline = self._status("VmRSS")

    def rise(self):
        """Bytes of the highest RSS since start() above the RSS at start()."""
        return self._status("VmHWM") - self.baseline

    @staticmethod
    def _status(key):
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024
        raise RuntimeError(f"no {key} in /proc/self/status")


class Ticker:
    """A progress line now and then during a long import, not one per page."""

    def __init__(self, total):
        self.total, self.done = total, 0
        self.started = self.last = time.perf_counter()

    def add(self, count):
        self.done += count
        now = time.perf_counter()
        if now - self.last >= PROGRESS_EVERY:
            self.last = now
            progress(f"  lines: {self.done:,}/{self.total:,} ({self.done / (now - self.started):.1f}/s)")


# --- The measured steps run in their own process ------------------------------------------------


def first_sync(registry, journal_id, expected):
    """The first retrieval of a bank: time, lines, peak memory (whole sync and first page)."""
    from odoo.addons.ingeneo_powens.models.powens_retrieval import PowensRetrieval

    memory, first_page = PeakMemory(), []
    with Environment(registry) as env:
        journal = env["account.journal"].browse(journal_id)
        ticker = Ticker(expected)
        import_page = PowensRetrieval._import_page

        def import_and_watch(retrieval, journal, page):
            counts = import_page(retrieval, journal, page)
            if not first_page:
                first_page.append(memory.rise())
            ticker.add(len(page))
            return counts

        memory.start()
        started = time.perf_counter()
        with patch.object(PowensRetrieval, "_import_page", import_and_watch):
            counts = checked_sync(journal)
        env.cr.commit()
        seconds = time.perf_counter() - started
        peak = memory.rise()
    if counts.get("new") != expected:
        raise RuntimeError(f"the first sync imported {counts.get('new')} lines, not {expected}: {counts}")
    return {"lines": counts["new"], "seconds": seconds, "peak": peak, "page_peak": first_page[0]}


def check_exact(registry, journal_id):
    """Every booked movement Powens lists for the bank is one line of the journal, to the cent
    (the figures of a benchmark that imported wrong amounts would mean nothing). Its reads of
    Powens are not counted: the caller drops them."""
    with Environment(registry) as env:
        journal = env["account.journal"].browse(journal_id)
        pages = journal._powens_client().iter_transaction_pages(
            journal.powens_account_id.powens_id, include_deleted=False
        )
        booked = {
            str(item["id"]): Decimal(str(item["value"]))
            for item in itertools.chain.from_iterable(pages)
            if not item["coming"]
        }
        lines = env["account.bank.statement.line"].search_fetch(
            [("journal_id", "=", journal.id), ("powens_transaction_id", "!=", False)],
            ["powens_transaction_id", "amount"],
        )
        imported = {line.powens_transaction_id: Decimal(str(line.amount)) for line in lines}
    if len(imported) != len(lines) or imported != booked:
        missing, extra = booked.keys() - imported.keys(), imported.keys() - booked.keys()
        wrong = [key for key in booked.keys() & imported.keys() if booked[key] != imported[key]]
        raise RuntimeError(
            f"the first sync is not exact: {len(missing)} missing, {len(extra)} extra, "
            f"{len(wrong)} wrong amounts, {len(lines) - len(imported)} twice"
        )


def raw_create(registry, powens_journal_id, target_journal_id, expected, batch=bench_report.PAGE_SIZE):
    """Odoo's own batched create, into the target journal, of the lines the first sync of the
    Powens journal will make (same dates, amounts, labels, partner names: the add-on's own
    mapping of the same movements, read from the sandbox beforehand), committing per batch as
    the add-on does. It runs before that sync, so a table already holding the add-on's lines
    cannot flatter the ratio."""
    from odoo.addons.ingeneo_powens.powens.mapping import map_transaction

    with Environment(registry) as env:
        journal = env["account.journal"].browse(powens_journal_id)
        currency = journal.currency_id or journal.company_id.currency_id
        pages = journal._powens_client().iter_transaction_pages(
            journal.powens_account_id.powens_id, include_deleted=False
        )
        transactions = itertools.chain.from_iterable(pages)
        movements = [
            map_transaction(item, account_currency=currency.name, precision=currency.decimal_places)
            for item in transactions
        ]
        values = [
            {
                "journal_id": target_journal_id,
                "date": movement.booking_date,
                "amount": float(movement.amount),
                "payment_ref": movement.label,
                "partner_name": movement.partner_name or False,
            }
            for movement in movements
            if not movement.pending
        ]
        if len(values) != expected:
            raise RuntimeError(f"{len(values)} booked movements at the sandbox, not {expected}")
        lines = env["account.bank.statement.line"].with_company(journal.company_id)
        env.cr.commit()
        ticker = Ticker(len(values))
        started = time.perf_counter()
        for start in range(0, len(values), batch):
            lines.create(values[start : start + batch])
            env.cr.commit()
            ticker.add(len(values[start : start + batch]))
        seconds = time.perf_counter() - started
    return {"lines": len(values), "seconds": seconds}


def run_in_own_process(args, step, *step_args):
    """Run ``step`` in a fresh Python process and return what it measured."""
    command = [
        sys.executable,
        "-m",
        "scripts.benchmark",
        "--config",
        args.config,
        "--database",
        args.database,
        step,
        *map(str, step_args),
    ]
    result = subprocess.run(command, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


# --- Banks and their data -------------------------------------------------------------------------


def configure_company(env, sandbox):
    """The database's contract at the sandbox, which the company (every company) uses."""
    contract = env["powens.contract"]._powens_database()
    contract.write(
        {
            "powens_domain": "sandbox",
            "powens_client_id": sandbox.client_id,
            "powens_client_secret": sandbox.client_secret,
            "powens_webhook_secret": sandbox.webhook_secret,
        }
    )
    contract.write({"powens_api_url": sandbox.api_url, "powens_webview_url": sandbox.webview_url})
    return env.company


def connected_bank(env, sandbox, name, transactions):
    """A bank journal of the current company linked to a new one-account connection at the
    sandbox, whose account holds ``transactions`` booked movements spread over the last year
    (none imported yet)."""
    journal, account = bank_at_sandbox(env, sandbox, env.company, name, transactions)
    journal._powens_link_account(account)
    return journal


def bank_at_sandbox(env, sandbox, company, name, transactions):
    """A bank journal of ``company`` and a new one-account connection at the sandbox whose
    account holds ``transactions`` booked movements spread over the last year: the journal
    and the Powens account to link to it (not linked yet, so no retrieval reads it)."""
    env = env["account.journal"].with_company(company).env
    journal = env["account.journal"].create({"name": name, "type": "bank", "company_id": company.id})
    powens_user = company._powens_create_user(journal)  # the bank's own Powens user
    client = powens_user._powens_client()
    bank_uuid = client.list_connectors(search=TEST_BANK_NAME)[0]["uuid"]
    created = sandbox.control(
        "POST",
        f"/_sandbox/users/{powens_user.powens_id}/connections",
        {"connector_uuid": bank_uuid, "login": name, "password": "secret", "accounts": 1, "months": 0},
    )
    connection = env["powens.connection"]._sync_from_powens(
        company, client.get_connection(created["id"], expand=("connector", "sources")), user=powens_user
    )
    account = env["powens.account"]._sync_from_powens(connection, client.list_accounts(created["id"]))
    journal.powens_connection_id = connection
    already = sum(
        1
        for item in itertools.chain.from_iterable(
            client.iter_transaction_pages(account.powens_id, include_deleted=False)
        )
        if not item["coming"]
    )
    add_history(sandbox, account.powens_id, transactions - already)
    return journal, account


def add_history(sandbox, account_id, count):
    """``count`` booked movements spread evenly over the days before today (at most a year)."""
    if count > 0:
        sandbox.control(
            "POST",
            f"/_sandbox/accounts/{account_id}/transactions",
            {
                "count": count,
                "date": (dt.date.today() - dt.timedelta(days=1)).isoformat(),
                "days": min(HISTORY_DAYS, count),
                "coming": False,
            },
        )


def requests_to_powens(sandbox):
    """The Powens API calls the sandbox received since the last call of this function."""
    calls = sandbox.control("GET", "/_sandbox/calls")
    sandbox.control("DELETE", "/_sandbox/calls")
    return len(calls)


# --- Syncs with nothing new -----------------------------------------------------------------------


def timed_sync(registry, journal_id):
    """Seconds and SQL queries (of this process, every cursor) of one retrieval of the bank
    that must find nothing new, on an environment of its own as a cron job has."""
    from odoo import sql_db

    with Environment(registry) as env:
        journal = env["account.journal"].browse(journal_id)
        queries, started = sql_db.sql_counter, time.perf_counter()
        counts = checked_sync(journal)
        env.cr.commit()
        seconds, queries = time.perf_counter() - started, sql_db.sql_counter - queries
    if counts.get("new"):
        raise RuntimeError(f"a sync with nothing new imported {counts['new']} lines")
    return seconds, queries


def steady_sync_with_nothing_new(registry, sandbox, journal_id):
    """Median time, most queries and the requests of a sync that finds nothing new once the
    history is behind the cursor: the state a bank spends its life in, hour after hour."""
    runs = [timed_sync(registry, journal_id) for _ in range(INCREMENTAL_REPEATS)]
    calls = requests_to_powens(sandbox) / INCREMENTAL_REPEATS
    return statistics.median(seconds for seconds, _ in runs), max(queries for _, queries in runs), round(calls)


# --- A day of the scheduled retrieval (fair use) ------------------------------------------------------


def one_day_of_scheduled_runs(registry, sandbox, journal_id, *, webhooks):
    """Powens requests for one bank with nothing new over 24 hourly runs of the scheduled
    retrieval, as the cron picks the banks due, on a moving clock: the sandbox's (its control
    API) and the add-on's (``fields.Datetime.now``, patched here only). ``webhooks``: a
    notification of Powens reached the bank just before, as every day when webhooks work;
    otherwise none did (webhooks not configured, or not arriving)."""
    from odoo import fields

    start = fields.Datetime.now()
    with Environment(registry) as env, patch.object(fields.Datetime, "now", lambda *args: start):
        journal = env["account.journal"].browse(journal_id)
        journal.powens_notified_at = False
        checked_sync(journal)
        if webhooks:
            journal._powens_notified(applied=True)
    requests_to_powens(sandbox)
    for hour in range(1, 25):
        sandbox.control("POST", "/_sandbox/clock", {"advance_seconds": 3600})
        now = start + dt.timedelta(hours=hour)
        with Environment(registry) as env, patch.object(fields.Datetime, "now", lambda *_args, now=now: now):
            for journal in env["account.journal"]._powens_cron_candidates().filtered(lambda j: j.id == journal_id):
                checked_sync(journal)
    return requests_to_powens(sandbox)


# --- Webhook deliveries to a real Odoo server ---------------------------------------------------------


def webhook_acknowledgements(args, registry, sandbox, journal_id):
    """Seconds to the 2xx of signed CONNECTION_SYNCED deliveries of WEBHOOK_TRANSACTIONS
    movements each, new ones every time, posted to a real Odoo HTTP server."""
    from odoo.addons.ingeneo_powens.const import WEBHOOK_ROUTE
    from odoo.addons.ingeneo_powens.powens.signature import sign_webhook

    with Environment(registry) as env:
        journal = env["account.journal"].browse(journal_id)
        client = journal._powens_client()
        connection = client.get_connection(journal.powens_connection_id.powens_id, expand=("connector", "sources"))
        account = next(
            item for item in client.list_accounts(connection["id"]) if item["id"] == journal.powens_account_id.powens_id
        )
        pages = itertools.islice(
            client.iter_transaction_pages(account["id"], include_deleted=False, limit=WEBHOOK_TRANSACTIONS),
            WEBHOOK_DELIVERIES + 1,
        )
        user = {
            "id": journal.powens_connection_id.user_id.powens_id,
            "signin": "2025-01-10 16:01:58",
            "platform": "sharedAccess",
        }
        bodies = [
            json.dumps(
                {
                    "id_webhook_data": 900_000 + number,
                    "user": user,
                    "connection": dict(connection, accounts=[dict(account, transactions=page)]),
                }
            ).encode()
            for number, page in enumerate(pages)
        ]
    with OdooServer(args) as base_url:
        seconds, outcomes = [], []
        for number, body in enumerate(bodies):
            date = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            headers = {
                "Content-Type": "application/json",
                "BI-Signature-Date": date,
                "BI-Signature": sign_webhook(sandbox.webhook_secret, WEBHOOK_ROUTE, date, body),
            }
            started = time.perf_counter()
            response = requests.post(base_url + WEBHOOK_ROUTE, data=body, headers=headers, timeout=120)
            elapsed = time.perf_counter() - started
            response.raise_for_status()
            if number:  # the first delivery warms the server up (routing, bundles of the route)
                seconds.append(elapsed)
                outcomes.append(response.json()["status"])
    return seconds, outcomes


class OdooServer:
    """`bin/odoo` serving the benchmark database over HTTP on a free port, without cron
    threads (a delivery that leaves its import to the cron would otherwise start it beside
    the measurements)."""

    def __init__(self, args):
        self.args = args

    def __enter__(self):
        port = free_port_in(ODOO_HTTP_PORTS)
        self.log = open(Path(self.args.output).with_name("bench-server.log"), "w", encoding="utf-8")
        self.process = subprocess.Popen(
            [
                PROJECT_ROOT / "bin" / "odoo",
                "-c",
                self.args.config,
                "-d",
                self.args.database,
                "--db-filter",
                f"^{self.args.database}$",
                "--http-port",
                str(port),
                "--max-cron-threads",
                "0",
                "--log-level",
                "warn",
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        base_url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Odoo stopped at start-up; see {self.log.name}")
            try:
                if requests.get(base_url + "/web/health", timeout=2).ok:
                    return base_url
            except requests.RequestException:
                time.sleep(0.5)
        raise RuntimeError(f"Odoo did not answer on {base_url} in time; see {self.log.name}")

    def __exit__(self, *exc_info):
        terminate(self.process, timeout=30)
        self.log.close()


def free_port_in(ports):
    """A free port of the range named by ``ports`` (its variable, its default); None when the
    variable is unset and the default is None (any free port then)."""
    variable, default = ports
    text = os.environ.get(variable)
    if text:
        first, _, last = text.partition("-")
        default = range(int(first), int(last or first) + 1)
    if default is None:
        return None
    port = next((port for port in default if port_is_free(port)), None)
    if port is None:
        raise RuntimeError(f"no free port in {default.start}-{default.stop - 1} ({variable})")
    return port


def port_is_free(port):
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


# --- The benchmark --------------------------------------------------------------------------------


def benchmark(args):
    scale = 10 if args.quick else 1
    small, large = 10_000 // scale, 30_000 // scale
    registry = open_registry(args.config, args.database)
    sandbox = start_sandbox(port=free_port_in(SANDBOX_PORTS))
    try:
        progress(f"Sandbox at {sandbox.base_url}; database {args.database}{' (--quick: n / 10)' if args.quick else ''}")
        with Environment(registry) as env:
            configure_company(env.company, sandbox)
            small_bank = connected_bank(env, sandbox, f"Bench {small}", small).id
            large_bank = connected_bank(env, sandbox, f"Bench {large}", large).id
            webhook_bank = connected_bank(
                env, sandbox, "Bench webhooks", WEBHOOK_TRANSACTIONS * (WEBHOOK_DELIVERIES + 1)
            ).id
            raw_bank = env["account.journal"].create({"name": "Bench raw create", "type": "bank"}).id
        progress(
            f"Sandbox data ready: {small:,} and {large:,} movements to import, "
            f"{WEBHOOK_DELIVERIES + 1} × {WEBHOOK_TRANSACTIONS:,} for the webhooks"
        )
        requests_to_powens(sandbox)

        progress(f"Odoo's batched create of {small:,} lines on a bank of its own (own process)")
        raw = run_in_own_process(args, "raw-create", small_bank, raw_bank, small)
        requests_to_powens(sandbox)  # what the yardstick read to know the lines
        progress(f"  {raw['lines']:,} lines in {raw['seconds']:.1f} s")

        progress(f"First sync of the same {small:,} movements through the add-on (own process)")
        small_sync = run_in_own_process(args, "first-sync", small_bank, small)
        small_requests = requests_to_powens(sandbox)
        check_exact(registry, small_bank)
        requests_to_powens(sandbox)  # what the check read
        progress(
            f"  {small_sync['lines']:,} lines in {small_sync['seconds']:.1f} s, "
            f"{small_requests} requests to Powens, peak +{bench_report.mib(small_sync['peak'])}"
        )

        progress(f"First sync of {large:,} movements through the add-on (own process)")
        large_sync = run_in_own_process(args, "first-sync", large_bank, large)
        check_exact(registry, large_bank)
        requests_to_powens(sandbox)
        progress(
            f"  {large_sync['lines']:,} lines in {large_sync['seconds']:.1f} s, "
            f"peak +{bench_report.mib(large_sync['peak'])}"
        )

        # The next sync once the cursor's margin has passed (2 h 15 min): it re-reads, once, what
        # changed within the margin before the first sync began (here the whole history, made
        # just before); from then on a sync finds nothing new.
        from odoo.addons.ingeneo_powens.models.powens_retrieval import CURSOR_MARGIN

        sandbox.control("POST", "/_sandbox/clock", {"advance_seconds": int(CURSOR_MARGIN.total_seconds()) + 3600})
        margin_rereads = []
        for journal_id, lines in ((small_bank, small), (large_bank, large)):
            seconds, queries = timed_sync(registry, journal_id)
            margin_rereads.append((lines, seconds, queries))
            progress(
                f"Next sync once the margin has passed, re-reading it once, bank of {lines:,} lines: "
                f"{seconds:.3f} s, {queries} queries"
            )
        requests_to_powens(sandbox)
        steady, steady_requests = [], []
        for journal_id, lines in ((small_bank, small), (large_bank, large)):
            seconds, queries, calls = steady_sync_with_nothing_new(registry, sandbox, journal_id)
            steady.append((lines, seconds, queries))
            steady_requests.append(calls)
            progress(
                f"Sync with nothing new, bank of {lines:,} lines: {seconds:.3f} s, {queries} queries, {calls} requests"
            )

        daily = {}
        for webhooks in (True, False):
            daily[webhooks] = one_day_of_scheduled_runs(registry, sandbox, small_bank, webhooks=webhooks)
            progress(
                f"A day of hourly scheduled runs, nothing new, {'with' if webhooks else 'without'} webhooks: "
                f"{daily[webhooks]} requests to Powens"
            )

        progress(f"Webhook deliveries: starting Odoo's HTTP server, then {WEBHOOK_DELIVERIES} deliveries")
        seconds, outcomes = webhook_acknowledgements(args, registry, sandbox, webhook_bank)
        progress(f"  acknowledged in {min(seconds):.3f} to {max(seconds):.3f} s ({', '.join(sorted(set(outcomes)))})")
    finally:
        sandbox.stop()

    rows = (
        bench_report.throughput_rows(small_sync["lines"], small_sync["seconds"], raw["lines"], raw["seconds"])
        + bench_report.incremental_rows(steady)
        + bench_report.margin_reread_rows(margin_rereads)
        + bench_report.request_rows(small_sync["lines"], small_requests, steady_requests)
        + bench_report.daily_request_rows(daily[True], daily[False])
        + bench_report.memory_rows(small, small_sync["peak"], large, large_sync["peak"], small_sync["page_peak"])
        + bench_report.webhook_rows(seconds, WEBHOOK_TRANSACTIONS, outcomes)
    )
    title = (
        f"Measured on {dt.date.today().isoformat()}: {bench_report.machine()}; "
        f"{'`--quick` (n / 10)' if args.quick else 'full run'}, {time.time() - STARTED_AT:.0f} s in all."
    )
    return bench_report.publish(title, rows, args.output)


def main():
    parser = bench_report.argument_parser(
        __doc__.splitlines()[0], "a database with the add-on installed", PROJECT_ROOT / ".local" / "bench.md"
    )
    steps = parser.add_subparsers(dest="step", help="a measured step alone, in this process (the benchmark runs them)")
    sync = steps.add_parser("first-sync")
    sync.add_argument("journal_id", type=int)
    sync.add_argument("expected", type=int)
    raw = steps.add_parser("raw-create")
    raw.add_argument("powens_journal_id", type=int)
    raw.add_argument("target_journal_id", type=int)
    raw.add_argument("expected", type=int)
    args = parser.parse_args()
    if args.step == "first-sync":
        print(json.dumps(first_sync(open_registry(args.config, args.database), args.journal_id, args.expected)))
    elif args.step == "raw-create":
        print(
            json.dumps(
                raw_create(
                    open_registry(args.config, args.database),
                    args.powens_journal_id,
                    args.target_journal_id,
                    args.expected,
                )
            )
        )
    else:
        return benchmark(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
