"""Retries and typed errors on every fault kind the sandbox injects, over real HTTP."""

import pytest
from powens import errors
from powens.client import PowensClient
from test_client_api import create_connection, transactions_of

# Small timeouts so the "timeout" fault costs well under a second.
FAST_TIMEOUT = (2, 0.5)


@pytest.fixture
def waits():
    return []


@pytest.fixture
def client(sandbox, waits):
    token = sandbox.control('POST', '/_sandbox/users')['auth_token']
    return PowensClient(
        sandbox.api_url,
        client_id=sandbox.client_id,
        client_secret=sandbox.client_secret,
        token=token,
        timeout=FAST_TIMEOUT,
        sleep=waits.append,
        max_retries=3,
        backoff=0.25,
    )


def inject(sandbox, kind, count=1, path=None, **extra):
    sandbox.control(
        'POST', '/_sandbox/faults', json=dict({'kind': kind, 'count': count, 'timeout_seconds': 2}, path=path, **extra)
    )
    sandbox.control('DELETE', '/_sandbox/calls')


def calls_to(sandbox, fragment):
    return [call for call in sandbox.control('GET', '/_sandbox/calls') if fragment in call['path']]


@pytest.mark.parametrize('kind', ['500', '503', 'timeout', 'malformed', 'drop'])
def test_transient_fault_is_retried_then_succeeds(sandbox, client, waits, kind):
    inject(sandbox, kind, count=2, path='/users/me')
    assert client.get_me()['id']
    assert waits == [0.25, 0.5]
    assert sandbox.control('GET', '/_sandbox/faults') == []


@pytest.mark.parametrize(
    'kind, error_class',
    [
        ('500', errors.PowensServerError),
        ('503', errors.PowensServerError),
        ('timeout', errors.PowensTimeout),
        ('malformed', errors.PowensBadResponse),
        ('drop', errors.PowensConnectionError),
    ],
)
def test_retries_are_bounded_then_typed_error(sandbox, client, waits, kind, error_class):
    inject(sandbox, kind, count=10, path='/users/me')
    with pytest.raises(error_class) as caught:
        client.get_me()
    assert waits == [0.25, 0.5, 1.0]
    if kind in ('500', '503'):
        assert caught.value.http_status == int(kind)
        assert len(calls_to(sandbox, '/users/me')) == 4
    remaining = sandbox.control('GET', '/_sandbox/faults')
    assert sum(fault.get('count', 0) for fault in remaining) == 6


def test_429_honours_retry_after(sandbox, client, waits):
    inject(sandbox, '429', count=2, path='/users/me', retry_after=3)
    assert client.get_me()['id']
    assert waits == [3.0, 3.0]


def test_429_exhausted_raises_rate_limited(sandbox, client, waits):
    inject(sandbox, '429', count=10, path='/users/me', retry_after=2)
    with pytest.raises(errors.PowensRateLimited) as caught:
        client.get_me()
    assert caught.value.http_status == 429 and caught.value.retry_after == 2
    assert waits == [2.0, 2.0, 2.0]


def test_429_on_a_post_is_retried(sandbox, client, waits):
    inject(sandbox, '429', count=1, path='/auth/init', retry_after=1)
    assert client.init_user()['auth_token']
    assert waits == [1.0]


@pytest.mark.parametrize(
    'kind, error_class',
    [
        ('500', errors.PowensServerError),
        ('drop', errors.PowensConnectionError),
        ('timeout', errors.PowensTimeout),
        ('malformed', errors.PowensBadResponse),
    ],
)
def test_user_creation_is_never_resent_once_sent(sandbox, client, waits, kind, error_class):
    """A second auth/init would create a second Powens user."""
    inject(sandbox, kind, count=1, path='/auth/init')
    with pytest.raises(error_class):
        client.init_user()
    assert waits == []


def test_other_client_errors_are_not_retried(sandbox, client, waits):
    with pytest.raises(errors.PowensNotFound):
        client.get_connection(999999)
    assert waits == [] and len(calls_to(sandbox, '/connections/999999')) == 1


def test_paging_survives_a_fault_between_pages(sandbox, client, waits):
    create_connection(sandbox, client, accounts=1, months=2)
    expected = [row['id'] for row in transactions_of(client, limit=10)]
    rows = transactions_of(client, limit=10)
    first = [next(rows)['id'] for _ in range(10)]
    inject(sandbox, '503', count=1, path='/transactions')
    assert first + [row['id'] for row in rows] == expected
    assert waits == [0.25]


def test_sync_calls_get_the_long_read_timeout(sandbox, waits):
    """A sync may keep Powens busy with the bank for minutes: it must not time out like a read."""
    token = sandbox.control('POST', '/_sandbox/users')['auth_token']
    client = PowensClient(sandbox.api_url, token=token, timeout=FAST_TIMEOUT, sync_timeout=5, sleep=waits.append)
    connection = create_connection(sandbox, client, accounts=1)
    path = f'/connections/{connection["id"]}'
    sandbox.control('POST', '/_sandbox/faults', json={'kind': 'timeout', 'path': path, 'timeout_seconds': 1})
    assert client.sync_connection(connection['id'])['id'] == connection['id']
    assert waits == []
    sandbox.control('POST', '/_sandbox/faults', json={'kind': 'timeout', 'path': path, 'timeout_seconds': 1})
    assert client.get_connection(connection['id'])['id'] == connection['id']
    assert waits == [1.0]
