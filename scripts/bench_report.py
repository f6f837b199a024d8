"""The figures of `make bench` against the targets of issue #8, as one Markdown table.

Pure Python (no Odoo), so the verdicts are tested on their own (tests/test_bench_report.py):
a benchmark that says "met" when it is not would be worse than none.
"""

import math
import os
import platform
from dataclasses import dataclass

MIN_RATIO = 0.9  # the add-on's first sync, against Odoo's own batched create
MAX_INCREMENTAL_SECONDS = 0.3  # a sync that brings nothing new
MAX_WEBHOOK_P95_SECONDS = 1.0  # acknowledging a 1,000-transaction delivery
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


def mib(size):
    return f"{size / 2**20:.0f} MiB"


def verdict(met):
    return {True: "yes", False: "**no**", None: ""}[met]


def markdown_table(rows):
    lines = ["| metric | measured | target | met? |", "|---|---|---|---|"]
    lines += [f"| {row.metric} | {row.measured} | {row.target} | {verdict(row.met)} |" for row in rows]
    return "\n".join(lines)


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
