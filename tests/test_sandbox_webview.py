"""The webview driven over HTTP like a browser without JavaScript: forms posted, redirects inspected."""

import urllib.parse

import requests

from conftest import TEST_BANK_NAME, connector_uuid
from powens_sandbox.driver import WebviewDriver

CALLBACK = "https://erp.example/powens/callback"


def callback_params(response) -> dict:
    assert response.status_code == 302, response.text[:500]
    location = response.headers["Location"]
    assert location.startswith(CALLBACK + "?") or location == CALLBACK
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))


def webview_code(sandbox, user) -> str:
    return requests.get(sandbox.api_url + "/auth/token/code", headers=user["headers"]).json()["code"]


def connect(sandbox, user, browser, password="secret", lang="en", **extra):
    uuid = connector_uuid(sandbox, TEST_BANK_NAME)
    params = dict(
        domain="sandbox.biapi.pro",
        client_id=sandbox.client_id,
        redirect_uri=CALLBACK,
        state="xyz",
        connector_uuids=uuid,
        **extra,
    )
    if user is not None:
        params["code"] = webview_code(sandbox, user)
    page = browser.open(f"/{lang}/connect", **params)
    assert page.status_code == 200 and 'name="password"' in page.text
    return browser.press("submit", login="bob", password=password, accept_terms="yes")


def test_picker_search_and_test_bank_note_in_french(sandbox, sandbox_user):
    browser = WebviewDriver(sandbox.webview_url)
    page = browser.open(
        "/fr/connect", client_id=sandbox.client_id, redirect_uri=CALLBACK, code=webview_code(sandbox, sandbox_user)
    )
    assert "Choisissez votre banque" in page.text and "Banques de test" in page.text
    found = browser.press("search", search="societe")
    assert "Société Générale" in found.text and "BNP Paribas" not in found.text
    english = WebviewDriver(sandbox.webview_url).open(
        "/en/connect", client_id=sandbox.client_id, redirect_uri=CALLBACK, code=webview_code(sandbox, sandbox_user)
    )
    assert "Choose your bank" in english.text


def test_connect_success_enables_only_ticked_accounts(sandbox, sandbox_user):
    browser = WebviewDriver(sandbox.webview_url)
    connect(sandbox, sandbox_user, browser, account_types="checking,card")
    boxes = browser.checkboxes()
    assert len(boxes) == 3 and sum("disabled" in box for box in boxes) == 1, "savings not allowed by account_types"
    params = callback_params(browser.press("submit", account="0"))
    assert params.keys() == {"connection_id", "state"} and params["state"] == "xyz"
    accounts = requests.get(
        sandbox.api_url + f"/users/me/connections/{params['connection_id']}/accounts?all",
        headers=sandbox_user["headers"],
    ).json()["accounts"]
    assert [item["disabled"] is None for item in accounts] == [True, False, False]
    rows = requests.get(sandbox.api_url + "/users/me/transactions?limit=5", headers=sandbox_user["headers"]).json()
    assert rows["transactions"], "the first sync ran"


def test_anonymous_connect_returns_a_code_to_exchange(sandbox):
    browser = WebviewDriver(sandbox.webview_url)
    connect(sandbox, None, browser)
    params = callback_params(browser.press("submit", account="0"))
    assert "code" in params
    token = requests.post(
        sandbox.api_url + "/auth/token/access",
        json={"client_id": sandbox.client_id, "client_secret": sandbox.client_secret, "code": params["code"]},
    ).json()
    connections = requests.get(
        sandbox.api_url + "/users/me/connections", headers={"Authorization": f"Bearer {token['access_token']}"}
    ).json()["connections"]
    assert [item["id"] for item in connections] == [int(params["connection_id"])]


def test_max_connections_returns_connection_ids(sandbox, sandbox_user):
    browser = WebviewDriver(sandbox.webview_url)
    connect(sandbox, sandbox_user, browser, max_connections="2")
    browser.press("submit", account="0")
    browser.press("another")
    browser.press(connector_uuid(sandbox, TEST_BANK_NAME))
    browser.press("submit", login="carol", password="x", accept_terms="yes")
    params = callback_params(browser.press("submit", account="0"))
    ids = params["connection_ids"].split(",")
    assert len(ids) == 2 and params["connection_id"] == ids[0]


def test_cancel_and_declined_terms(sandbox, sandbox_user):
    browser = WebviewDriver(sandbox.webview_url)
    connect(sandbox, sandbox_user, browser)
    assert callback_params(browser.press("cancel"))["error"] == "access_denied"
    browser = WebviewDriver(sandbox.webview_url)
    browser.open(
        "/en/connect",
        client_id=sandbox.client_id,
        redirect_uri=CALLBACK,
        state="s1",
        code=webview_code(sandbox, sandbox_user),
        connector_uuids=connector_uuid(sandbox, TEST_BANK_NAME),
    )
    params = callback_params(browser.press("decline_terms"))
    assert params == {"error": "tos_declined", "error_description": params["error_description"], "state": "s1"}


def test_expired_code_bad_client_and_redirect_with_query(sandbox, sandbox_user):
    code = webview_code(sandbox, sandbox_user)
    sandbox.control("POST", "/_sandbox/clock", {"advance_seconds": 31 * 60})
    browser = WebviewDriver(sandbox.webview_url)
    params = callback_params(browser.open("/en/connect", client_id=sandbox.client_id, redirect_uri=CALLBACK, code=code))
    assert params["error"] == "session_expired" and "expired" in params["error_description"]
    assert browser.open("/en/connect", client_id="42", redirect_uri=CALLBACK).status_code == 400
    refused = browser.open("/en/connect", client_id=sandbox.client_id, redirect_uri=CALLBACK + "?next=1")
    assert refused.status_code == 400 and "query" in refused.text


def test_test_bank_passwords_in_the_webview(sandbox, sandbox_user):
    browser = WebviewDriver(sandbox.webview_url)
    assert "Wrong login or password" in connect(sandbox, sandbox_user, browser, password="wrongpass").text
    otp_page = connect(sandbox, sandbox_user, browser, password="sca")
    assert 'name="otp"' in otp_page.text
    assert "Incorrect code" in browser.press("submit", otp="000000").text
    browser.press("submit", otp="123456")
    assert callback_params(browser.press("submit", account="0"))["connection_id"]
    assert "banking app" in connect(sandbox, sandbox_user, browser, password="decoupled").text
    browser.press("resume")
    assert callback_params(browser.press("submit", account="0"))["connection_id"]
    for password, state in (
        ("actionneeded", "actionNeeded"),
        ("passwordexpired", "passwordExpired"),
        ("unavailable", "websiteUnavailable"),
    ):
        params = callback_params(connect(sandbox, sandbox_user, browser, password=password))
        conn = requests.get(
            sandbox.api_url + f"/users/me/connections/{params['connection_id']}", headers=sandbox_user["headers"]
        ).json()
        assert conn["state"] == state


def test_reconnect_repairs_a_lapsed_connection(sandbox, sandbox_user, sandbox_connection):
    sandbox.control("POST", "/_sandbox/clock", {"advance_seconds": 181 * 86400})
    url = sandbox.api_url + f"/users/me/connections/{sandbox_connection['id']}"
    assert requests.get(url, headers=sandbox_user["headers"]).json()["state"] == "SCARequired"
    browser = WebviewDriver(sandbox.webview_url)
    page = browser.open(
        "/fr/reconnect",
        client_id=sandbox.client_id,
        redirect_uri=CALLBACK,
        state="r",
        code=webview_code(sandbox, sandbox_user),
        connection_id=sandbox_connection["id"],
    )
    assert "Authentification forte" in page.text
    assert callback_params(browser.press("submit", otp="123456")) == {"state": "r"}
    repaired = requests.get(url + "?expand=sources", headers=sandbox_user["headers"]).json()
    assert repaired["state"] is None
    assert repaired["sources"][0]["access_expire"] > sandbox.control("GET", "/_sandbox/clock")["now"]


def test_manage_toggles_accounts_deletes_and_closes(sandbox, sandbox_user, sandbox_connection):
    browser = WebviewDriver(sandbox.webview_url)
    page = browser.open(
        "/en/manage",
        client_id=sandbox.client_id,
        redirect_uri=CALLBACK,
        state="m",
        code=webview_code(sandbox, sandbox_user),
    )
    assert TEST_BANK_NAME in page.text
    first_account = sandbox_connection["accounts"][0]["id"]
    assert "Saved." in browser.press("save", account=str(first_account)).text
    accounts = requests.get(sandbox.api_url + "/users/me/accounts", headers=sandbox_user["headers"]).json()
    assert [item["id"] for item in accounts["accounts"]] == [first_account]
    assert "Connection deleted." in browser.press("delete").text
    assert callback_params(browser.press("close")) == {"state": "m"}
    assert (
        requests.get(sandbox.api_url + "/users/me/connections", headers=sandbox_user["headers"]).json()["connections"]
        == []
    )
