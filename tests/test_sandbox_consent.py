"""Consent dates as Powens documents them (issue 14, sandbox rows S1 and S3), and both sides of each switch
where the documentation is silent: `connection.expire` is not the consent's end, `sources[].access_expire` is;
the reconnect webview on a healthy connection renews nothing, `refresh_auth` does."""

import datetime as dt

import pytest
import requests
from test_sandbox_webview import CALLBACK, callback_params, webview_code

from conftest import TEST_BANK_NAME, connector_uuid, start_sandbox
from powens_sandbox.driver import WebviewDriver


def connection_url(handle, conn_id):
    return handle.api_url + f"/users/me/connections/{conn_id}"


def read(handle, user, conn_id):
    return requests.get(connection_url(handle, conn_id) + "?expand=sources", headers=user["headers"]).json()


def new_user(handle):
    user = handle.control("POST", "/_sandbox/users")
    return dict(user, headers={"Authorization": f"Bearer {user['auth_token']}"})


def new_connection(handle, user, sources=("openapi",)):
    return handle.control(
        "POST",
        f"/_sandbox/users/{user['id_user']}/connections",
        {
            "connector_uuid": connector_uuid(handle, TEST_BANK_NAME),
            "login": "alice",
            "password": "secret",
            "sources": list(sources),
        },
    )


def open_reconnect(handle, user, conn_id):
    browser = WebviewDriver(handle.webview_url)
    browser.open(
        "/en/reconnect",
        client_id=handle.client_id,
        redirect_uri=CALLBACK,
        state="r",
        code=webview_code(handle, user),
        connection_id=conn_id,
    )
    return browser


@pytest.fixture
def sandbox_with(request):
    """A sandbox started with the given switches, stopped after the test."""
    handles = []

    def start(*args):
        handles.append(start_sandbox(*args))
        return handles[-1]

    yield start
    for handle in handles:
        handle.stop()


def test_consent_end_is_in_the_sources_and_expire_stays_null_once_set_up(sandbox, sandbox_user):
    conn = read(sandbox, sandbox_user, new_connection(sandbox, sandbox_user)["id"])
    assert conn["expire"] is None
    now = sandbox.control("GET", "/_sandbox/clock")["now"]
    assert conn["sources"][0]["access_expire"] > now
    assert "sources" not in requests.get(connection_url(sandbox, conn["id"]), headers=sandbox_user["headers"]).json()


def test_the_earliest_source_consent_stops_the_sync(sandbox, sandbox_user):
    conn = new_connection(sandbox, sandbox_user, sources=("openapi", "directaccess"))
    sandbox.control(
        "POST",
        f"/_sandbox/connections/{conn['id']}/consent",
        {"source": "directaccess", "access_expire": "2020-01-01 00:00:00"},
    )
    assert read(sandbox, sandbox_user, conn["id"])["state"] == "SCARequired"


def test_switch_connection_expire_consent_gives_the_latest_source_consent(sandbox_with):
    handle = sandbox_with("--connection-expire", "consent")
    user = new_user(handle)
    conn = new_connection(handle, user, sources=("openapi", "directaccess"))
    now = dt.datetime.strptime(handle.control("GET", "/_sandbox/clock")["now"], "%Y-%m-%d %H:%M:%S")
    earlier = (now + dt.timedelta(days=10)).strftime("%Y-%m-%d %H:%M:%S")
    handle.control(
        "POST", f"/_sandbox/connections/{conn['id']}/consent", {"source": "openapi", "access_expire": earlier}
    )
    data = read(handle, user, conn["id"])
    consents = sorted(source["access_expire"] for source in data["sources"])
    assert consents[0] == earlier and data["expire"] == consents[-1] != earlier


def test_reconnect_on_a_healthy_connection_asks_nothing_and_renews_nothing(sandbox, sandbox_user):
    conn = new_connection(sandbox, sandbox_user)
    before = read(sandbox, sandbox_user, conn["id"])["sources"][0]["access_expire"]
    sandbox.control("POST", "/_sandbox/clock", {"advance_seconds": 30 * 86400})
    browser = open_reconnect(sandbox, sandbox_user, conn["id"])
    assert callback_params(browser.page) == {"state": "r"}, "straight back, nothing to prompt"
    assert read(sandbox, sandbox_user, conn["id"])["sources"][0]["access_expire"] == before


def test_switch_reconnect_renews_consent_plays_the_other_side(sandbox_with):
    handle = sandbox_with("--reconnect-renews-consent")
    user = new_user(handle)
    conn = new_connection(handle, user)
    before = read(handle, user, conn["id"])["sources"][0]["access_expire"]
    handle.control("POST", "/_sandbox/clock", {"advance_seconds": 30 * 86400})
    browser = open_reconnect(handle, user, conn["id"])
    assert callback_params(browser.press("submit", otp="123456")) == {"state": "r"}
    assert read(handle, user, conn["id"])["sources"][0]["access_expire"] > before


def test_refresh_auth_asks_for_an_sca_whose_completion_renews_the_consent(sandbox, sandbox_user):
    conn = new_connection(sandbox, sandbox_user)
    before = read(sandbox, sandbox_user, conn["id"])["sources"][0]["access_expire"]
    sandbox.control("POST", "/_sandbox/clock", {"advance_seconds": 30 * 86400})
    asked = requests.post(
        connection_url(sandbox, conn["id"]), json={"refresh_auth": True}, headers=sandbox_user["headers"]
    ).json()
    assert asked["state"] == "decoupled"
    browser = open_reconnect(sandbox, sandbox_user, conn["id"])
    assert callback_params(browser.press("resume")) == {"state": "r"}
    renewed = read(sandbox, sandbox_user, conn["id"])
    assert renewed["state"] is None and renewed["sources"][0]["access_expire"] > before


def test_refresh_auth_is_only_effective_for_the_openapi_source(sandbox, sandbox_user):
    conn = new_connection(sandbox, sandbox_user, sources=("directaccess",))
    asked = requests.post(
        connection_url(sandbox, conn["id"]), json={"refresh_auth": True}, headers=sandbox_user["headers"]
    ).json()
    assert asked["state"] is None


def test_accounts_and_all_accounts_expands_come_under_their_own_keys(sandbox, sandbox_user):
    """`powens-sdks` `lib/specs/connections.yml`: `Connection.accounts` (enabled) and `all_accounts`."""
    conn = new_connection(sandbox, sandbox_user)
    account_id = conn["accounts"][0]["id"]
    requests.post(
        sandbox.api_url + f"/users/me/accounts/{account_id}?all",
        json={"disabled": True},
        headers=sandbox_user["headers"],
    )
    data = requests.get(
        connection_url(sandbox, conn["id"]) + "?expand=accounts,all_accounts", headers=sandbox_user["headers"]
    ).json()
    assert account_id in [item["id"] for item in data["all_accounts"]]
    assert account_id not in [item["id"] for item in data["accounts"]]
