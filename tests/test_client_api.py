"""Every Powens endpoint of the client, against the sandbox over real HTTP."""

import datetime

import pytest
import requests
from powens import errors
from powens.client import PowensClient
from powens.values import parse_datetime


@pytest.fixture
def app_client(sandbox):
    """A client holding the application credentials but no user token."""
    return PowensClient(
        sandbox.api_url, client_id=sandbox.client_id, client_secret=sandbox.client_secret, sleep=lambda seconds: None
    )


@pytest.fixture
def user_client(sandbox, app_client):
    """A client bound to a fresh permanent user."""
    return app_client.with_token(sandbox.control('POST', '/_sandbox/users')['auth_token'])


def transactions_of(client, account_id=None, **filters):
    """Every transaction across the pages, one by one, one page in memory at a time."""
    for page in client.iter_transaction_pages(account_id, **filters):
        yield from page
        del page  # released before the next page is fetched


def disable_account(sandbox, user_client, account_id):
    """The holder stops sharing the account in Powens' pages (the ERP never does it)."""
    response = requests.post(
        sandbox.api_url + f'/users/me/accounts/{account_id}',
        json={'disabled': True},
        headers={'Authorization': f'Bearer {user_client.token}'},
        timeout=10,
    )
    response.raise_for_status()


def create_connection(sandbox, user_client, *, accounts=2, months=1):
    """Give the client's user a connection (enabled accounts, generated history) through the
    sandbox control API, the same machinery as the webview; return it with its accounts."""
    user_id = user_client.get_me()['id']
    connector = user_client.list_connectors()[0]
    return sandbox.control(
        'POST',
        f'/_sandbox/users/{user_id}/connections',
        json={
            'connector_uuid': connector['uuid'],
            'login': 'alice',
            'password': 'secret-pw',
            'accounts': accounts,
            'months': months,
        },
    )


@pytest.fixture
def connection(sandbox, user_client):
    """A connection with two enabled accounts and a month of history."""
    return create_connection(sandbox, user_client)


def calls(sandbox):
    return sandbox.control('GET', '/_sandbox/calls')


def test_init_user_and_get_me(app_client):
    auth = app_client.init_user()
    assert auth['auth_token'] and auth['type'] == 'permanent'
    me = app_client.with_token(auth['auth_token']).get_me()
    assert me['id'] == auth['id_user']
    assert parse_datetime(me['signin']).tzinfo is not None


def test_init_user_needs_client_credentials(sandbox):
    with pytest.raises(errors.PowensAuthError):
        PowensClient(sandbox.api_url, client_id=sandbox.client_id).init_user()


def test_wrong_client_secret_is_refused(sandbox):
    client = PowensClient(sandbox.api_url, client_id=sandbox.client_id, client_secret='wrong')
    with pytest.raises(errors.PowensError) as caught:
        client.init_user()
    assert 400 <= caught.value.http_status < 500


@pytest.mark.parametrize('code_type, access', [('singleAccess', 'single'), ('requestAccess', 'standard')])
def test_temporary_code(user_client, code_type, access):
    code = user_client.get_temporary_code(code_type)
    assert code['code'] and code['type'] == 'temporary' and code['access'] == access


def test_exchange_code_gives_a_token_of_the_same_user(user_client):
    code = user_client.get_temporary_code('requestAccess')['code']
    access = user_client.exchange_code(code)
    assert access['access_token'] and access['token_type'].lower() == 'bearer'
    assert user_client.with_token(access['access_token']).get_me() == user_client.get_me()


def test_bad_token_raises_auth_error(sandbox):
    client = PowensClient(sandbox.api_url, token='not-a-token')
    with pytest.raises(errors.PowensAuthError) as caught:
        client.get_me()
    assert caught.value.http_status == 401


def test_missing_token_fails_before_any_call(sandbox):
    with pytest.raises(errors.PowensAuthError):
        PowensClient(sandbox.api_url).list_connections()
    assert calls(sandbox) == []


def test_delete_me(user_client):
    user_client.delete_me()
    with pytest.raises((errors.PowensAuthError, errors.PowensNotFound)):
        user_client.get_me()


def test_list_connectors_without_token(sandbox):
    connectors = PowensClient(sandbox.api_url).list_connectors()
    assert connectors and all(connector['uuid'] for connector in connectors)
    name = connectors[0]['name']
    assert name in [
        c['name'] for c in PowensClient(sandbox.api_url).list_connectors(search=name.upper(), capabilities=['bank'])
    ]
    assert PowensClient(sandbox.api_url).list_connectors(search='no such bank at all') == []
    assert 'Société Générale' in [
        item['name'] for item in PowensClient(sandbox.api_url).list_connectors(search='societe generale')
    ]


def test_connections_list_and_get(user_client, connection):
    listed = user_client.list_connections(expand=['accounts'])
    assert [c['id'] for c in listed] == [connection['id']]
    assert len(listed[0]['accounts']) == 2
    fetched = user_client.get_connection(connection['id'], expand='connector')
    assert fetched['id'] == connection['id'] and fetched['connector']['uuid']


def test_sync_connection_is_a_put_without_psu(sandbox, user_client, connection):
    sandbox.control('DELETE', '/_sandbox/calls')
    synced = user_client.sync_connection(connection['id'], psu_requested=False)
    assert synced['id'] == connection['id']
    [call] = calls(sandbox)
    assert call['method'] == 'PUT'
    assert call['path'].endswith(f'/users/me/connections/{connection["id"]}')
    assert call['query'].get('psu_requested') in ('false', ['false'])


def test_update_connection(user_client, connection):
    updated = user_client.update_connection(connection['id'], active=False)
    assert updated['active'] is False


def test_delete_connection(user_client, connection):
    user_client.delete_connection(connection['id'])
    with pytest.raises(errors.PowensNotFound) as caught:
        user_client.get_connection(connection['id'])
    assert caught.value.http_status == 404


def test_accounts_listed_with_the_disabled_ones_unless_told(sandbox, user_client, connection):
    accounts = user_client.list_accounts(connection['id'])
    assert len(accounts) == 2
    assert {a['id'] for a in user_client.list_accounts()} == {a['id'] for a in accounts}
    account = accounts[0]
    disable_account(sandbox, user_client, account['id'])
    assert next(a for a in user_client.list_accounts() if a['id'] == account['id'])['disabled']
    assert account['id'] not in {a['id'] for a in user_client.list_accounts(include_disabled=False)}


def test_transactions_of_an_account_with_deleted_ones(sandbox, user_client, connection):
    account_id = connection['accounts'][0]['id']
    rows = list(transactions_of(user_client, account_id))
    assert rows and {row['id_account'] for row in rows} == {account_id}
    assert len({row['id'] for row in rows}) == len(rows)
    sandbox.control('POST', f'/_sandbox/transactions/{rows[0]["id"]}/delete')
    with_deleted = {row['id']: row for row in transactions_of(user_client, account_id)}
    assert with_deleted[rows[0]['id']]['deleted']
    without = [row['id'] for row in transactions_of(user_client, account_id, include_deleted=False)]
    assert rows[0]['id'] not in without and len(without) == len(rows) - 1


def test_transactions_since_a_cursor(sandbox, user_client, connection):
    account_id = connection['accounts'][1]['id']
    rows = list(transactions_of(user_client))
    cursor = max(parse_datetime(row['last_update']) for row in rows)
    sandbox.control('POST', '/_sandbox/clock', json={'advance_seconds': 60})
    added = sandbox.control('POST', f'/_sandbox/accounts/{account_id}/transactions', json={'count': 3})['ids']
    fresh = list(transactions_of(user_client, last_update=cursor))
    assert sorted(row['id'] for row in fresh) == sorted(added)


def test_transactions_between_dates(user_client, connection):
    today = datetime.date.today()
    rows = list(
        transactions_of(user_client, min_date=today - datetime.timedelta(days=10), max_date=today, date_filter='date')
    )
    assert all(today - datetime.timedelta(days=10) <= datetime.date.fromisoformat(row['date']) <= today for row in rows)


def test_transactions_without_enabled_account(sandbox, user_client, connection):
    for account in connection['accounts']:
        disable_account(sandbox, user_client, account['id'])
    with pytest.raises(errors.PowensNoAccount) as caught:
        list(transactions_of(user_client))
    assert caught.value.code == 'noAccount' and caught.value.http_status in (400, 409)
