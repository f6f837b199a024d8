"""The figures of `make bench` against the targets of issue #8, as one Markdown table.

Pure Python (no Odoo), so the verdicts are tested on their own (tests/test_bench_report.py):
a benchmark that says "met" when it is not would be worse than none.
"""

import argparse
import math
import os
import platform
from dataclasses import dataclass
from pathlib import Path

MIN_RATIO = 0.9  # the add-on's first sync, against Odoo's own batched create
MAX_INCREMENTAL_SECONDS = 0.3  # a sync that brings nothing new
MAX_WEBHOOK_P95_SECONDS = 1.0  # acknowledging a 1,000-transaction delivery
# Issue 17 (an accounting firm's database): two cron workers against one on the same first
# syncs, and the cockpit's server time for every bank of the firm.
MAX_TWO_WORKERS_RATIO = 0.65
MAX_COCKPIT_SECONDS = 0.5
# Issue 14 (fair use, PSD2): Powens requests per bank per day with nothing new.
MAX_DAILY_REQUESTS_WITH_WEBHOOKS = 4
MAX_DAILY_REQUESTS_WITHOUT_WEBHOOKS = 24
PAGE_SIZE = 1000  # transactions per Powens page
# Requests of a retrieval besides its pages: the connection (read or refreshed), its
# accounts, and the empty page that may end the paging.
REQUEST_OVERHEAD = 3


@dataclass(frozen=True)
class Row:
    metric: str
    measured: str
    target: str = "—"
    met: bool | None = None  # None: a yardstick or a context figure, without a target of its own


def percentile(values, fraction):
    """Nearest-rank percentile: a value that was actually observed, never interpolated."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no values")
    return ordered[max(math.ceil(fraction * len(ordered)), 1) - 1]


def max_requests(lines):
    """What a retrieval of ``lines`` transactions may cost in requests to Powens."""
    return math.ceil(lines / PAGE_SIZE) + REQUEST_OVERHEAD


def throughput_rows(addon_lines, addon_seconds, raw_lines, raw_seconds):
    addon_rate, raw_rate = addon_lines / addon_seconds, raw_lines / raw_seconds
    ratio = addon_rate / raw_rate
    return [
        Row(
            f"First sync through the add-on, {addon_lines:,} lines", f"{addon_rate:.1f} lines/s ({addon_seconds:.1f} s)"
        ),
        Row(
            f"Odoo's batched `create` of the same {raw_lines:,} lines", f"{raw_rate:.1f} lines/s ({raw_seconds:.1f} s)"
        ),
        Row("Ratio add-on / Odoo", f"{ratio:.2f}", f"≥ {MIN_RATIO}", ratio >= MIN_RATIO),
    ]


def incremental_rows(runs):
    """``runs``: (history lines, seconds, queries) of a sync with nothing new, per bank."""
    same_queries = len({queries for _lines, _seconds, queries in runs}) == 1
    return [
        Row(
            f"Sync with nothing new, bank of {lines:,} lines",
            f"{seconds:.3f} s, {queries} queries",
            f"≤ {MAX_INCREMENTAL_SECONDS} s, same queries for every size",
            seconds <= MAX_INCREMENTAL_SECONDS and same_queries,
        )
        for lines, seconds, queries in runs
    ]


def margin_reread_rows(runs):
    """``runs``: (lines, seconds, queries) of the sync after the first, which re-reads once
    what changed within the cursor's margin before the first began; no target."""
    return [
        Row(
            f"The sync after the first, once the cursor's margin passed, re-reading it, bank of {lines:,} lines",
            f"{seconds:.3f} s, {queries} queries",
            "—",
            None,
        )
        for lines, seconds, queries in runs
    ]


def request_rows(first_sync_lines, first_sync_requests, incremental_requests):
    """``incremental_requests``: the requests of each sync with nothing new."""
    return [
        Row(
            f"Requests to Powens, first sync of {first_sync_lines:,}",
            str(first_sync_requests),
            f"≤ ⌈n/{PAGE_SIZE}⌉ + {REQUEST_OVERHEAD} = {max_requests(first_sync_lines)}",
            first_sync_requests <= max_requests(first_sync_lines),
        ),
        Row(
            "Requests to Powens, sync with nothing new",
            " / ".join(map(str, incremental_requests)),
            f"≤ {max_requests(1)}",
            max(incremental_requests) <= max_requests(1),
        ),
    ]


def daily_request_rows(with_webhooks, without_webhooks):
    """Requests to Powens of one bank over a day of hourly scheduled runs with nothing new."""
    return [
        Row(
            "Powens requests per bank per day with nothing new, webhooks healthy",
            str(with_webhooks),
            f"≤ {MAX_DAILY_REQUESTS_WITH_WEBHOOKS}",
            with_webhooks <= MAX_DAILY_REQUESTS_WITH_WEBHOOKS,
        ),
        Row(
            "Powens requests per bank per day with nothing new, without webhooks",
            str(without_webhooks),
            f"≤ {MAX_DAILY_REQUESTS_WITHOUT_WEBHOOKS}",
            without_webhooks <= MAX_DAILY_REQUESTS_WITHOUT_WEBHOOKS,
        ),
    ]


def memory_rows(small_lines, small_peak, large_lines, large_peak, page_peak):
    """Peaks in bytes above the process's memory before its sync; ``page_peak`` is the rise
    over the first page of the small sync: what holding one page costs, set-up included."""
    growth = large_peak - small_peak
    return [
        Row(f"Peak memory of a first sync of {small_lines:,}", f"+{mib(small_peak)} (first page: +{mib(page_peak)})"),
        Row(
            f"Peak memory of a first sync of {large_lines:,}",
            f"+{mib(large_peak)} ({growth / 2**20:+.0f} MiB)",
            f"flat: growth ≤ a page's worth (+{mib(page_peak)})",
            growth <= page_peak,
        ),
    ]


def webhook_rows(seconds, transactions, outcomes):
    p50, p95 = percentile(seconds, 0.5), percentile(seconds, 0.95)
    return [
        Row(
            f"Acknowledging a signed {transactions:,}-transaction CONNECTION_SYNCED "
            f"({len(seconds)} deliveries, {', '.join(sorted(set(outcomes)))})",
            f"p50 {p50:.3f} s, p95 {p95:.3f} s",
            f"p95 ≤ {MAX_WEBHOOK_P95_SECONDS} s",
            p95 <= MAX_WEBHOOK_P95_SECONDS,
        ),
    ]


def firm_hourly_rows(banks, seconds, queries, requests, one_bank_queries):
    """The scheduled job over ``banks`` banks due with nothing new: wall time, its SQL queries
    (every cursor) and Powens requests; ``one_bank_queries``: the job's when one bank is due."""
    per_bank = queries / banks
    return [
        Row(
            f"Hourly retrieval with nothing new, {banks:,} banks: total wall time",
            f"{seconds:.1f} s ({seconds / banks:.3f} s per bank)",
        ),
        Row(
            f"SQL queries per bank, {banks:,} banks due / 1 bank due",
            f"{per_bank:.1f} / {one_bank_queries}",
            "no more for every bank than for one",
            per_bank <= one_bank_queries,
        ),
        Row(
            f"Powens requests per bank, {banks:,} banks",
            f"{requests / banks:.2f}",
            f"≤ {max_requests(1)}",
            requests / banks <= max_requests(1),
        ),
    ]


@dataclass(frozen=True)
class WorkersRun:
    """Cron workers' first syncs: wall time, and the CPU seconds spent meanwhile by the
    workers, by their PostgreSQL connections and by the sandbox (where the time went)."""

    seconds: float
    odoo_cpu: float
    postgresql_cpu: float
    sandbox_cpu: float

    def describe(self, lines):
        return (
            f"{self.seconds:.1f} s ({lines / self.seconds:.1f} lines/s); CPU: Odoo {self.odoo_cpu:.1f} s, "
            f"PostgreSQL {self.postgresql_cpu:.1f} s, sandbox {self.sandbox_cpu:.1f} s"
        )


def two_workers_rows(banks, lines, one_worker, two_workers, wrong_banks, jobs=1):
    """First syncs of ``banks`` banks (``lines`` movements) by one cron worker, and of as many
    other banks alike by two, with ``jobs`` cron jobs running the retrieval (WorkersRun each);
    ``wrong_banks``: the banks not holding each movement once."""
    ratio = two_workers.seconds / one_worker.seconds
    return [
        Row(f"First syncs of {banks:,} banks ({lines:,} movements), one cron worker", one_worker.describe(lines)),
        Row(
            f"First syncs of {banks:,} other banks alike, two cron workers, "
            f"{jobs} retrieval job{'s' if jobs > 1 else ''}",
            two_workers.describe(lines),
        ),
        Row(
            "Wall-time ratio two workers / one",
            f"{ratio:.2f}",
            f"≤ {MAX_TWO_WORKERS_RATIO}",
            ratio <= MAX_TWO_WORKERS_RATIO,
        ),
        Row(
            "Each movement imported once (lines per bank = movements at Powens, no transaction twice)",
            f"{2 * banks - len(wrong_banks):,} banks of {2 * banks:,}",
            "every bank",
            not wrong_banks,
        ),
    ]


def cockpit_rows(few_banks, few, many_banks, many):
    """The cockpit's screens measured for ``many_banks`` banks against ``few_banks``: ``few``
    and ``many`` are measures (``view``, ``records``, ``queries``, ``seconds``) by screen."""
    few_queries = {measure.view: measure.queries for measure in few}
    return [
        Row(
            f"Cockpit, {measure.view}, {many_banks:,} banks",
            f"{measure.seconds:.3f} s, {measure.queries} queries ({measure.records:,} banks shown)",
            f"≤ {MAX_COCKPIT_SECONDS} s, queries as for {few_banks} banks ({few_queries[measure.view]})",
            measure.seconds <= MAX_COCKPIT_SECONDS and measure.queries <= few_queries[measure.view],
        )
        for measure in many
    ]


def mib(size):
    return f"{size / 2**20:.0f} MiB"


def verdict(met):
    return {True: "yes", False: "**no**", None: ""}[met]


def markdown_table(rows):
    lines = ["| metric | measured | target | met? |", "|---|---|---|---|"]
    lines += [f"| {row.metric} | {row.measured} | {row.target} | {verdict(row.met)} |" for row in rows]
    return "\n".join(lines)


def argument_parser(description, database_help, output):
    """The arguments `bin/workbench bench` gives every benchmark; ``output`` is where its table
    goes by default."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--config", required=True, help="Odoo configuration file")
    parser.add_argument("--database", required=True, help=database_help)
    parser.add_argument("--quick", action="store_true", help="n / 10, for development")
    parser.add_argument("--output", default=str(output), help="where the table goes")
    return parser


def publish(title, rows, output):
    """Print the table under its title and write it to ``output``; the exit status of the
    benchmark: 1 when a target is missed."""
    table = "\n".join([title, "", markdown_table(rows)])
    Path(output).write_text(table + "\n", encoding="utf-8")
    print(table)
    return 0 if all(row.met is not False for row in rows) else 1


def machine():
    """The machine in one line: the figures mean nothing without it."""
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    system = platform.system()
    try:
        with open("/etc/os-release", encoding="utf-8") as release:
            system = dict(line.rstrip().split("=", 1) for line in release if "=" in line)["PRETTY_NAME"].strip('"')
    except (OSError, KeyError):
        pass
    return f"{os.cpu_count()} cores, {memory / 2**30:.0f} GiB, {system}, Python {platform.python_version()}"
