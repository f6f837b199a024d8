"""What the client logs while talking to the sandbox: useful, and never a secret."""

import logging

import pytest
from powens.client import PowensClient
from test_client_api import create_connection, transactions_of

LOGGER = 'powens.client'


@pytest.fixture
def client(sandbox):
    return PowensClient(
        sandbox.api_url, client_id=sandbox.client_id, client_secret=sandbox.client_secret, sleep=lambda seconds: None
    )


def test_debug_logs_mask_every_secret(sandbox, client, caplog):
    with caplog.at_level(logging.DEBUG, logger=LOGGER):
        auth = client.init_user()
        user = client.with_token(auth['auth_token'])
        code = user.get_temporary_code('requestAccess')['code']
        access = client.exchange_code(code)
    secrets = [sandbox.client_secret, auth['auth_token'], code, access['access_token']]
    assert caplog.records, 'the client logs its calls at DEBUG'
    assert 'auth/init' in caplog.text and 'auth/token/code' in caplog.text
    assert '***' in caplog.text
    for secret in secrets:
        assert secret not in caplog.text
        assert all(secret not in str(record.args) for record in caplog.records)


def test_info_logs_carry_no_bank_payload(sandbox, client, caplog):
    token = sandbox.control('POST', '/_sandbox/users')['auth_token']
    user = client.with_token(token)
    create_connection(sandbox, user)
    with caplog.at_level(logging.INFO, logger=LOGGER):
        rows = list(transactions_of(user))
    assert rows
    assert not any(row['original_wording'] in caplog.text for row in rows if row.get('original_wording'))


def test_retry_warning_names_the_call_not_the_token(sandbox, caplog):
    token = sandbox.control('POST', '/_sandbox/users')['auth_token']
    client = PowensClient(sandbox.api_url, token=token, sleep=lambda seconds: None)
    sandbox.control('POST', '/_sandbox/faults', json={'kind': '503', 'path': '/users/me'})
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        client.get_me()
    [warning] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert 'users/me' in warning.getMessage() and '503' in warning.getMessage()
    assert token not in caplog.text
