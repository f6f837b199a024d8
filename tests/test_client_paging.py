"""Transaction paging over 10,000 rows: one call per page, each row once, flat memory."""

import datetime
import gc
import tracemalloc

import pytest
from powens.client import PowensClient
from powens.values import parse_datetime
from test_client_api import create_connection, transactions_of

ROWS = 10_000


@pytest.fixture
def big_account(sandbox):
    """An account holding exactly 10,000 transactions, and a client for its user."""
    client = PowensClient(sandbox.api_url, token=sandbox.control('POST', '/_sandbox/users')['auth_token'])
    connection = create_connection(sandbox, client, accounts=1, months=0)
    account_id = connection['accounts'][0]['id']
    existing = sum(1 for _ in transactions_of(client, account_id))
    sandbox.control('POST', f'/_sandbox/accounts/{account_id}/transactions', json={'count': ROWS - existing})
    sandbox.control('DELETE', '/_sandbox/calls')
    return client, account_id


def transaction_calls(sandbox):
    return [call for call in sandbox.control('GET', '/_sandbox/calls') if call['path'].endswith('/transactions')]


def test_ten_thousand_rows_in_ten_calls(sandbox, big_account):
    client, account_id = big_account
    seen = set()
    for row in transactions_of(client, account_id, limit=1000):
        assert row['id'] not in seen
        seen.add(row['id'])
    assert len(seen) == ROWS
    calls = transaction_calls(sandbox)
    assert len(calls) == 10
    assert all(call['status'] == 200 for call in calls)
    assert 'all' in calls[0]['query'] and calls[0]['query']['limit'] in ('1000', ['1000'])


def test_pages_are_fetched_lazily(sandbox, big_account):
    client, account_id = big_account
    rows = transactions_of(client, account_id, limit=1000)
    for _ in range(1001):
        next(rows)
    assert len(transaction_calls(sandbox)) == 2
    rows.close()


def test_memory_stays_flat_while_iterating(big_account):
    client, account_id = big_account
    gc.collect()
    tracemalloc.start()
    try:
        count = sum(1 for _ in transactions_of(client, account_id, limit=1000))
        _, streaming_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        held = list(transactions_of(client, account_id, limit=1000))
        holding_all, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == len(held) == 10_000
    # One page (plus its raw text) at a time: far below the ten pages held together.
    assert streaming_peak < holding_all / 4, (streaming_peak, holding_all)


def test_each_page_tells_when_powens_served_it(sandbox):
    """The served time comes from Powens' Date header (its clock, not ours): the next
    incremental pull starts from there. An empty listing still yields one page to tell it."""
    client = PowensClient(sandbox.api_url, token=sandbox.control('POST', '/_sandbox/users')['auth_token'])
    connection = create_connection(sandbox, client, accounts=1, months=0)
    account_id = connection['accounts'][0]['id']
    sandbox.control('POST', '/_sandbox/clock', json={'advance_seconds': 3 * 86400})
    powens_now = parse_datetime(sandbox.control('GET', '/_sandbox/clock')['now'])
    pages = list(client.iter_transaction_pages(account_id, last_update=powens_now))
    assert [len(page) for page in pages] == [0]
    assert abs(pages[0].served_at - powens_now) < datetime.timedelta(seconds=5)
    assert abs(client.served_at - powens_now) < datetime.timedelta(seconds=5)
