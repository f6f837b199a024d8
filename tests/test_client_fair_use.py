"""Issue 14: a forced sync is never resent by the client, and a revoked token is renewed
through /auth/renew before anything is reported. Real HTTP against the sandbox."""

import pytest
import requests
from powens import errors
from powens.client import PowensClient
from test_client_api import create_connection
from test_client_faults import FAST_TIMEOUT, calls_to, inject


@pytest.fixture
def waits():
    return []


@pytest.fixture
def user(sandbox):
    return sandbox.control('POST', '/_sandbox/users')


@pytest.fixture
def renewed_tokens():
    return []


@pytest.fixture
def client(sandbox, user, waits, renewed_tokens):
    """A client of the user that knows how to renew its token (as the add-on's is)."""
    return PowensClient(
        sandbox.api_url,
        client_id=sandbox.client_id,
        client_secret=sandbox.client_secret,
        token=user['auth_token'],
        timeout=FAST_TIMEOUT,
        sync_timeout=FAST_TIMEOUT,
        sleep=waits.append,
        max_retries=3,
        backoff=0.25,
        user_id=user['id_user'],
        on_token_renewed=renewed_tokens.append,
    )


def revoke(sandbox, token):
    """The token stops working at Powens, as a revoked or expired one does."""
    response = requests.delete(
        sandbox.api_url + '/auth/token', headers={'Authorization': f'Bearer {token}'}, timeout=10
    )
    assert response.status_code == 204


@pytest.mark.parametrize(
    'kind, error_class',
    [
        ('500', errors.PowensServerError),
        ('503', errors.PowensServerError),
        ('timeout', errors.PowensTimeout),
        ('malformed', errors.PowensBadResponse),
    ],
)
def test_forced_sync_is_reported_never_resent(sandbox, client, waits, kind, error_class):
    """Each PUT is one more access to the bank: a failure that may have reached Powens is
    reported as it is (the connection is read again at the next retrieval)."""
    connection = create_connection(sandbox, client)
    waits.clear()  # the set-up's reads, retried when a loaded machine made one time out
    inject(sandbox, kind, count=5, path=f"/connections/{connection['id']}")
    with pytest.raises(error_class):
        client.sync_connection(connection['id'], psu_requested=True)
    (fault,) = sandbox.control('GET', '/_sandbox/faults')
    assert fault['count'] == 4, "one PUT reached Powens, none was sent again"
    assert waits == []


def test_reads_are_still_retried(sandbox, client, waits):
    connection = create_connection(sandbox, client)
    inject(sandbox, '500', count=1, path=f"/connections/{connection['id']}")
    assert client.get_connection(connection['id'])['id'] == connection['id']
    assert [call['method'] for call in calls_to(sandbox, '/connections/')] == ['GET', 'GET']


def test_revoked_token_is_renewed_once_and_the_call_goes_through(sandbox, client, user, renewed_tokens):
    revoke(sandbox, user['auth_token'])
    sandbox.control('DELETE', '/_sandbox/calls')
    assert client.get_me()['id'] == user['id_user']
    assert [(call['method'], call['path'], call['status']) for call in sandbox.control('GET', '/_sandbox/calls')] == [
        ('GET', '/2.0/users/me', 401),
        ('POST', '/2.0/auth/renew', 200),
        ('GET', '/2.0/users/me', 200),
    ]
    assert len(renewed_tokens) == 1 and renewed_tokens[0] != user['auth_token']
    assert client.token == renewed_tokens[0]
    client.get_me()
    assert len(renewed_tokens) == 1, "the renewed token is used from then on"


def test_renewal_refused_reports_the_401(sandbox, user, renewed_tokens):
    client = PowensClient(
        sandbox.api_url,
        client_id=sandbox.client_id,
        client_secret='not-the-secret',
        token=user['auth_token'],
        sleep=lambda seconds: None,
        user_id=user['id_user'],
        on_token_renewed=renewed_tokens.append,
    )
    revoke(sandbox, user['auth_token'])
    with pytest.raises(errors.PowensAuthError) as caught:
        client.get_me()
    assert caught.value.http_status == 401
    assert renewed_tokens == []
    assert len(calls_to(sandbox, '/auth/renew')) == 1, "renewal is tried once, not in a loop"


def test_a_client_that_cannot_renew_reports_the_401_at_once(sandbox, user):
    client = PowensClient(
        sandbox.api_url,
        client_id=sandbox.client_id,
        client_secret=sandbox.client_secret,
        token=user['auth_token'],
        sleep=lambda seconds: None,
    )
    revoke(sandbox, user['auth_token'])
    with pytest.raises(errors.PowensAuthError):
        client.get_me()
    assert calls_to(sandbox, '/auth/renew') == []
