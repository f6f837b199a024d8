"""`make bench` at an accounting firm's scale (issue 17 §5): one database, many client companies.

Run by `bin/workbench bench [--quick]` after `scripts.benchmark`, on a database of its own with
the add-on installed: `python -m scripts.benchmark_firm --config CONF --database DB [--quick]
[--output FILE]`. It starts its own Powens sandbox, builds 200 companies × 2 banks of 500
movements each (sizes / 10 with --quick), measures, and prints its own Markdown table (also
written to --output). Every figure comes from this run.

1. First syncs by Odoo's cron runner: the first bank of every company by one cron worker, then
   the second bank of every company (the same sizes) by two workers at once; each worker is a
   process of its own running `ir.cron._process_jobs_loop` on `ir_cron_powens_sync`, as an
   Odoo cron thread does when woken up. Odoo gives a job to one worker at a time: the add-on
   ships the job twice, so that both workers run at once and share the banks through the
   retrieval's claim; --retrieval-jobs 1 deactivates the second (the workers then take turns),
   more than 2 adds copies.
2. The hourly retrieval with nothing new over every bank, then with one bank due.
3. The cockpit's first page and each filter (`scripts.bench_cockpit`).
"""

import datetime as dt
import json
import os
import subprocess
import sys
import time
from unittest.mock import patch

from powens_sandbox.launcher import start_sandbox
from scripts import bench_report
from scripts.benchmark import (
    PROJECT_ROOT,
    SANDBOX_PORTS,
    STARTED_AT,
    Environment,
    bank_at_sandbox,
    configure_company,
    free_port_in,
    open_registry,
    progress,
    requests_to_powens,
)

COMPANIES = 200
BANKS_PER_COMPANY = 2  # the first of each company for one worker, the second for two
MOVEMENTS = 500  # booked movements of history per bank
CHART_TEMPLATE = "generic_coa"  # the template database's own: the lightest to load 200 times
COMPANIES_PER_COMMIT = 10
CRON_XMLID = "ingeneo_powens.ir_cron_powens_sync"
# Seconds between two polls of a worker waiting for the job another holds: an Odoo cron thread
# woken up by the job's trigger (ODOO_NOTIFY_CRON_CHANGES), not one sleeping its 60 s.
WORKER_POLL_SECONDS = 0.2


def progress_every(done, total, every=COMPANIES_PER_COMMIT * 5):
    if done % every == 0 or done == total:
        progress(f"  {done}/{total}")


# --- The firm ---------------------------------------------------------------------------------


def build_firm(registry, sandbox, companies, movements):
    """``companies`` client companies, each with its chart of accounts, on the database's Powens
    contract, and BANKS_PER_COMPANY banks connected at the sandbox with ``movements`` movements of
    history, not linked yet; returns, per bank rank, the (journal id, Powens account id)."""
    with Environment(registry) as env:
        configure_company(env, sandbox)  # the database's contract, which every company uses
        company_ids = env["res.company"].create([{"name": f"Client {number:03d}"} for number in range(companies)]).ids
    banks = [[] for _ in range(BANKS_PER_COMPANY)]
    for start in range(0, companies, COMPANIES_PER_COMMIT):
        with Environment(registry) as env:
            for company in env["res.company"].browse(company_ids[start : start + COMPANIES_PER_COMMIT]):
                env["account.chart.template"].try_loading(CHART_TEMPLATE, company=company, install_demo=False)
                for rank, ranked in enumerate(banks):
                    journal, account = bank_at_sandbox(env, sandbox, company, f"Banque {rank + 1}", movements)
                    ranked.append((journal.id, account.id))
        progress_every(start + COMPANIES_PER_COMMIT, companies)
    return banks


def link_banks(registry, banks):
    """Link the banks to their Powens accounts: from here the scheduled job retrieves them."""
    with Environment(registry) as env:
        for journal_id, account_id in banks:
            env["account.journal"].browse(journal_id)._powens_link_account(env["powens.account"].browse(account_id))


def wrong_banks(registry, journal_ids, movements):
    """The banks not holding each of their ``movements`` movements exactly once."""
    with Environment(registry) as env:
        env.cr.execute(
            """
            SELECT journal.id
              FROM account_journal journal
              LEFT JOIN account_bank_statement_line line
                ON line.journal_id = journal.id AND line.powens_transaction_id IS NOT NULL
             WHERE journal.id = ANY(%s)
             GROUP BY journal.id
            HAVING count(line.id) != %s OR count(DISTINCT line.powens_transaction_id) != %s
            """,
            [list(journal_ids), movements, movements],
        )
        return [row[0] for row in env.cr.fetchall()]


# --- Cron workers, each a process of its own ---------------------------------------------------


def retrieval_jobs(env):
    """The cron jobs running the scheduled retrieval: the add-on's, and the copies
    --retrieval-jobs made."""
    return env["ir.cron"].search([("code", "=", env.ref(CRON_XMLID).code)], order="id")


def cron_worker(config_file, database):
    """One cron worker: Odoo's runner loop on the retrieval jobs until none is ready any more
    (fully done, rescheduled later). Odoo's runner gives a job to one worker at a time (it
    locks the job's row): a second worker finds it taken and takes the next job, if any.
    Says "ready" once its registry is loaded, starts on a line of its standard input, and
    returns when it ended (epoch seconds) and the CPU seconds it and its PostgreSQL
    connections spent from the start."""
    from odoo import sql_db
    from odoo.tools import SQL, config

    from odoo.addons.base.models.ir_cron import IrCron

    registry = open_registry(config_file, database)
    with Environment(registry) as env:
        job_ids = retrieval_jobs(env).ids
    print("ready", flush=True)
    sys.stdin.readline()
    odoo_cpu = cpu_seconds(os.getpid())
    runs = 0
    while True:
        with sql_db.db_connect(database).cursor() as cron_cr:
            IrCron._process_jobs_loop(cron_cr, job_ids=job_ids)
            cron_cr.execute(
                SQL(
                    "SELECT count(*) FROM ir_cron WHERE id = ANY(%s) AND %s",
                    job_ids,
                    IrCron._get_ready_sql_condition(cron_cr),
                )
            )
            if not cron_cr.fetchone()[0]:
                break
        runs += 1
        time.sleep(WORKER_POLL_SECONDS)
    ended = time.time()
    with Environment(registry) as env:
        # Odoo keeps its connections open in a pool: their server processes are still there.
        env.cr.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name = %s",
            [config["db_app_name"].replace("{pid}", str(os.getpid()))[:63]],
        )
        postgresql_cpu = sum(cpu_seconds(pid) for (pid,) in env.cr.fetchall())
    return {"ended": ended, "polls": runs, "odoo_cpu": cpu_seconds(os.getpid()) - odoo_cpu, "pg_cpu": postgresql_cpu}


def cpu_seconds(pid):
    """CPU seconds (user and system) process ``pid`` has spent so far (Linux's /proc)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def first_syncs_by_workers(args, registry, sandbox, workers):
    """Seconds for ``workers`` cron workers to retrieve every bank due (their first syncs),
    from the moment the job is due and every worker is loaded, and where the time went: CPU
    seconds of the workers, of their PostgreSQL connections and of the sandbox."""
    from odoo import fields

    with Environment(registry) as env:
        retrieval_jobs(env).write({"nextcall": fields.Datetime.now() - dt.timedelta(minutes=1)})
    command = [sys.executable, "-m", "scripts.benchmark_firm", "--config", args.config, "--database", args.database]
    processes = [
        subprocess.Popen(
            [*command, "cron-worker"], cwd=PROJECT_ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        for _ in range(workers)
    ]
    try:
        for process in processes:
            if process.stdout.readline().strip() != "ready":
                raise RuntimeError("a cron worker did not start")
        started, sandbox_cpu = time.time(), cpu_seconds(sandbox.process.pid)
        for process in processes:
            process.stdin.write("go\n")
            process.stdin.flush()
        reports = []
        for process in processes:
            output, _ = process.communicate(timeout=None)
            if process.returncode:
                raise RuntimeError(f"a cron worker failed (exit code {process.returncode})")
            reports.append(json.loads(output.strip().splitlines()[-1]))
        sandbox_cpu = cpu_seconds(sandbox.process.pid) - sandbox_cpu
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    return bench_report.WorkersRun(
        seconds=max(report["ended"] for report in reports) - started,
        odoo_cpu=sum(report["odoo_cpu"] for report in reports),
        postgresql_cpu=sum(report["pg_cpu"] for report in reports),
        sandbox_cpu=sandbox_cpu,
    )


# --- The hourly retrieval with nothing new ------------------------------------------------------


def scheduled_run(registry, sandbox, now):
    """The scheduled job once, in this process (warm registry), at ``now`` by the add-on's
    clock: seconds, SQL queries (every cursor), Powens requests, and the banks it retrieved;
    raises when one failed or imported something."""
    from odoo import fields, sql_db

    requests_to_powens(sandbox)
    with patch.object(fields.Datetime, "now", lambda *_args: now):
        with Environment(registry) as env:
            last_log = env["powens.sync.log"].search([], order="id desc", limit=1).id or 0
        with Environment(registry) as env:
            queries, started = sql_db.sql_counter, time.perf_counter()
            env["account.journal"]._cron_powens_sync()
            seconds, queries = time.perf_counter() - started, sql_db.sql_counter - queries
    calls = requests_to_powens(sandbox)
    with Environment(registry) as env:
        logs = env["powens.sync.log"].search_fetch([("id", ">", last_log)], ["error", "new_count"])
        failed = logs.filtered("error")
        if failed or sum(logs.mapped("new_count")):
            raise RuntimeError(f"{len(failed)} retrievals failed, {sum(logs.mapped('new_count'))} lines imported")
    return seconds, queries, calls, len(logs)


def hourly_with_nothing_new(registry, sandbox, journal_ids):
    """The hourly job in the hour every bank is due again (they are read every 2 hours),
    once the cursor's margin has passed (the run before re-reads the margin once, as in
    benchmark.py), then with one bank due."""
    from odoo.addons.ingeneo_powens.models.account_journal_retrieval_schedule import SCHEDULED_READ_INTERVAL
    from odoo.addons.ingeneo_powens.models.powens_retrieval import CURSOR_MARGIN

    hour = dt.timedelta(hours=1)
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    for offset in (CURSOR_MARGIN + hour, SCHEDULED_READ_INTERVAL):  # the margin's re-read, then the measured run
        sandbox.control("POST", "/_sandbox/clock", {"advance_seconds": offset.total_seconds()})
        now += offset
        seconds, queries, calls, retrieved = scheduled_run(registry, sandbox, now)
        progress(f"  {retrieved} banks in {seconds:.1f} s, {queries} queries, {calls} requests")
    if retrieved != len(journal_ids):
        raise RuntimeError(f"the hourly job retrieved {retrieved} banks of {len(journal_ids)}")
    minutes = dt.timedelta(minutes=5)
    with Environment(registry) as env:
        env["account.journal"].browse(journal_ids[0]).powens_last_read_at = now - SCHEDULED_READ_INTERVAL
    sandbox.control("POST", "/_sandbox/clock", {"advance_seconds": minutes.total_seconds()})
    _seconds, one_bank_queries, _calls, one = scheduled_run(registry, sandbox, now + minutes)
    if one != 1:
        raise RuntimeError(f"the job retrieved {one} banks, not the one due")
    progress(f"  one bank due: {one_bank_queries} queries")
    return seconds, queries, calls, one_bank_queries


# --- The cockpit -----------------------------------------------------------------------------------


def firm_accountant(env, companies):
    """The firm's accountant: a user of every client company, as the cockpit is meant for."""
    from odoo import Command

    return env["res.users"].create(
        {
            "name": "Firm accountant",
            "login": "firm.accountant",
            "company_id": companies[0].id,
            "company_ids": [Command.set(companies.ids)],
            "group_ids": [Command.set([env.ref("account.group_account_manager").id])],
        }
    )


def cockpit(registry, half_journal_ids, all_journal_ids):
    """The cockpit's screens for every bank and for half of them (the first bank of every
    company: as many companies, so as many groups, half the banks), as the firm's accountant
    sees them (the record rules apply). A first round, not reported, fills the caches a
    running server has warm (views, access rights)."""
    from scripts.bench_cockpit import measure_cockpit

    with Environment(registry) as env:
        accountant = firm_accountant(env, env["account.journal"].browse(all_journal_ids).company_id)
    with Environment(registry) as env:
        env = env(user=accountant.id)
        half, every = env["account.journal"].browse(half_journal_ids), env["account.journal"].browse(all_journal_ids)
        measure_cockpit(env, half)
        few, many = measure_cockpit(env, half), measure_cockpit(env, every)
    return bench_report.cockpit_rows(len(half), few, len(every), many)


# --- The benchmark --------------------------------------------------------------------------------


def benchmark(args):
    scale = 10 if args.quick else 1
    companies, movements = args.companies or COMPANIES // scale, args.movements or MOVEMENTS // scale
    load_at_start = os.getloadavg()[0]
    registry = open_registry(args.config, args.database)
    sandbox = start_sandbox(port=free_port_in(SANDBOX_PORTS))
    try:
        progress(
            f"Firm: sandbox at {sandbox.base_url}; database {args.database}; {companies} companies × "
            f"{BANKS_PER_COMPANY} banks × {movements} movements{' (--quick: n / 10)' if args.quick else ''}"
        )
        built = time.perf_counter()
        first_banks, second_banks = build_firm(registry, sandbox, companies, movements)
        progress(f"  built in {time.perf_counter() - built:.0f} s")
        requests_to_powens(sandbox)

        lines = companies * movements
        link_banks(registry, first_banks)
        progress(f"First syncs of the first bank of each company ({lines:,} movements), one cron worker")
        one_worker = first_syncs_by_workers(args, registry, sandbox, 1)
        progress(f"  {one_worker.describe(lines)}")
        link_banks(registry, second_banks)
        with Environment(registry) as env:
            jobs = retrieval_jobs(env)
            jobs[args.retrieval_jobs :].write({"active": False})
            for number in range(len(jobs) + 1, args.retrieval_jobs + 1):
                jobs[0].copy({"name": f"{jobs[0].name} ({number})"})
        progress(f"First syncs of the second bank of each company ({lines:,} movements), two cron workers")
        two_workers = first_syncs_by_workers(args, registry, sandbox, 2)
        progress(f"  {two_workers.describe(lines)}")
        journal_ids = [journal_id for ranked in (first_banks, second_banks) for journal_id, _account in ranked]
        wrong = wrong_banks(registry, journal_ids, movements)

        progress(f"Hourly retrieval with nothing new over the {len(journal_ids)} banks")
        hourly_seconds, hourly_queries, hourly_calls, one_bank_queries = hourly_with_nothing_new(
            registry, sandbox, journal_ids
        )

        progress("The cockpit, first page and each filter")
        cockpit_table = cockpit(registry, [journal_id for journal_id, _account in first_banks], journal_ids)
    finally:
        sandbox.stop()

    rows = (
        bench_report.two_workers_rows(companies, lines, one_worker, two_workers, wrong, args.retrieval_jobs)
        + bench_report.firm_hourly_rows(
            len(journal_ids), hourly_seconds, hourly_queries, hourly_calls, one_bank_queries
        )
        + cockpit_table
    )
    title = (
        f"Firm scale, measured on {dt.date.today().isoformat()}: {bench_report.machine()}; "
        f"{companies} companies × {BANKS_PER_COMPANY} banks × {movements} movements; "
        f"{'`--quick` (n / 10)' if args.quick else 'full run'}"
        f"{', sizes chosen' if args.companies or args.movements else ''}, "
        f"{time.time() - STARTED_AT:.0f} s since `make bench` started; "
        f"load average (1 min) {load_at_start:.1f} at the start, "
        f"{os.getloadavg()[0]:.1f} at the end."
    )
    return bench_report.publish(title, rows, args.output)


def main():
    parser = bench_report.argument_parser(
        __doc__.splitlines()[0],
        "a database with the add-on installed, nothing else",
        PROJECT_ROOT / ".local" / "bench-firm.md",
    )
    parser.add_argument("--companies", type=int, help=f"client companies instead of {COMPANIES} (or n / 10)")
    parser.add_argument("--movements", type=int, help=f"movements per bank instead of {MOVEMENTS} (or n / 10)")
    parser.add_argument(
        "--retrieval-jobs",
        type=int,
        default=2,
        help="cron jobs running the retrieval when two workers share the first syncs (the add-on ships two)",
    )
    steps = parser.add_subparsers(dest="step", help="a cron worker, in this process (the benchmark starts them)")
    steps.add_parser("cron-worker")
    args = parser.parse_args()
    if args.step == "cron-worker":
        print(json.dumps(cron_worker(args.config, args.database)))
        return 0
    return benchmark(args)


if __name__ == "__main__":
    sys.exit(main())
