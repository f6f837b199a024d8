"""The verdicts of `make bench`: a table that says "met" when a target is missed would be worse
than no benchmark at all."""

from collections import namedtuple

import pytest

from scripts.bench_report import (
    Row,
    WorkersRun,
    cockpit_rows,
    daily_request_rows,
    firm_hourly_rows,
    incremental_rows,
    markdown_table,
    max_requests,
    memory_rows,
    percentile,
    request_rows,
    throughput_rows,
    two_workers_rows,
    webhook_rows,
)

MIB = 2**20


def test_percentile_is_an_observed_value_by_nearest_rank():
    values = [0.5, 0.1, 0.4, 0.2, 0.3]
    assert percentile(values, 0.5) == 0.3
    assert percentile(values, 0.95) == 0.5
    assert percentile(list(range(1, 21)), 0.95) == 19  # of 20 deliveries, the 19th: one may be slow
    with pytest.raises(ValueError):
        percentile([], 0.5)


def test_throughput_ratio_is_the_add_on_over_odoo():
    *_, ratio = throughput_rows(900, 10.0, 1000, 10.0)
    assert (ratio.measured, ratio.met) == ("0.90", True)
    *_, ratio = throughput_rows(899, 10.0, 1000, 10.0)
    assert ratio.met is False


def test_incremental_needs_the_time_and_the_same_queries_for_every_size():
    assert [row.met for row in incremental_rows([(5000, 0.1, 40), (20000, 0.3, 40)])] == [True, True]
    assert [row.met for row in incremental_rows([(5000, 0.1, 40), (20000, 0.31, 40)])] == [True, False]
    assert [row.met for row in incremental_rows([(5000, 0.1, 40), (20000, 0.1, 41)])] == [False, False]


def test_requests_allow_one_per_page_plus_the_overhead():
    assert max_requests(10_000) == max_requests(9_001) == 10 + 3
    first, nothing_new = request_rows(10_000, 13, [3, 3])
    assert (first.met, nothing_new.met) == (True, True)
    first, nothing_new = request_rows(10_000, 14, [3, 5])
    assert (first.met, nothing_new.met) == (False, False)


def test_requests_per_bank_per_day_against_issue_14():
    assert [row.met for row in daily_request_rows(4, 24)] == [True, True]
    assert [row.met for row in daily_request_rows(5, 24)] == [False, True]
    assert [row.met for row in daily_request_rows(2, 72)] == [True, False]  # the hourly forced sync of before


def test_memory_is_flat_when_the_growth_stays_within_a_page():
    _, large = memory_rows(10_000, 80 * MIB, 30_000, 100 * MIB, 30 * MIB)
    assert large.met is True
    _, large = memory_rows(10_000, 80 * MIB, 30_000, 140 * MIB, 30 * MIB)
    assert large.met is False


def test_webhook_target_is_on_the_p95():
    (row,) = webhook_rows([0.1] * 19 + [5.0], 1000, ["deferred"] * 20)
    assert row.met is True  # one slow delivery of 20 is beyond the 95th percentile
    (row,) = webhook_rows([0.1] * 18 + [5.0, 5.0], 1000, ["deferred"] * 20)
    assert row.met is False


def test_table_marks_missed_targets_and_leaves_yardsticks_blank():
    table = markdown_table([Row("a", "1"), Row("b", "2", "≤ 1", False), Row("c", "0", "≤ 1", True)])
    assert table.splitlines() == [
        "| metric | measured | target | met? |",
        "|---|---|---|---|",
        "| a | 1 | — |  |",
        "| b | 2 | ≤ 1 | **no** |",
        "| c | 0 | ≤ 1 | yes |",
    ]


def test_firm_hourly_queries_per_bank_may_not_exceed_those_of_one_bank_due():
    _wall, queries, requests = firm_hourly_rows(400, 40.0, 400 * 30, 800, 34)
    assert (queries.measured, queries.met) == ("30.0 / 34", True)
    assert (requests.measured, requests.met) == ("2.00", True)
    _wall, queries, requests = firm_hourly_rows(400, 40.0, 400 * 35, 400 * 5, 34)
    assert (queries.met, requests.met) == (False, False)  # a per-bank query more at scale; 5 requests a bank


def test_two_workers_must_take_at_most_two_thirds_of_one_and_import_each_movement_once():
    one = WorkersRun(1000.0, 900.0, 80.0, 20.0)
    *_, ratio, once = two_workers_rows(200, 100_000, one, WorkersRun(650.0, 950.0, 90.0, 20.0), [])
    assert (ratio.measured, ratio.met, once.met) == ("0.65", True, True)
    *_, ratio, once = two_workers_rows(200, 100_000, one, WorkersRun(660.0, 950.0, 90.0, 20.0), [17])
    assert (ratio.met, once.met, once.measured) == (False, False, "399 banks of 400")
    first, two, _ratio, _once = two_workers_rows(200, 100_000, one, WorkersRun(500.0, 1, 2, 3), [], jobs=2)
    assert two.metric.endswith("two cron workers, 2 retrieval jobs")
    assert first.measured == "1000.0 s (100.0 lines/s); CPU: Odoo 900.0 s, PostgreSQL 80.0 s, sandbox 20.0 s"


CockpitMeasure = namedtuple("CockpitMeasure", "view records queries seconds")  # scripts/bench_cockpit.py's


def test_cockpit_needs_its_time_and_no_more_queries_for_every_bank_than_for_a_few():
    few = [CockpitMeasure("list", 2, 12, 0.05), CockpitMeasure("filter action_required", 1, 10, 0.04)]
    many = [CockpitMeasure("list", 80, 12, 0.4), CockpitMeasure("filter action_required", 40, 10, 0.5)]
    assert [row.met for row in cockpit_rows(2, few, 400, many)] == [True, True]
    many = [CockpitMeasure("list", 80, 13, 0.1), CockpitMeasure("filter action_required", 40, 10, 0.51)]
    assert [row.met for row in cockpit_rows(2, few, 400, many)] == [False, False]
