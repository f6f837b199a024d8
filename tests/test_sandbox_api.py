"""Shapes and errors of the sandbox's Powens REST surface (auth, users, connectors, connections, accounts)."""

import re
from decimal import Decimal

import requests

from conftest import TEST_BANK_NAME, connector_uuid
from powens_sandbox.launcher import start_sandbox

FRENCH_BANKS = (
    "BNP Paribas",
    "Société Générale",
    "LCL",
    "Crédit Mutuel",
    "CIC",
    "La Banque Postale",
    "Caisse d'Épargne",
    "Banque Populaire",
    "Boursorama",
    "Qonto",
    "Shine",
    "HSBC France",
    "Crédit du Nord",
    "Hello bank!",
    "Fortuneo",
    "ING",
    "Monabanq",
    "Nickel",
    "AXA Banque",
)


def iban_is_valid(iban: str) -> bool:
    rearranged = iban[4:] + iban[:4]
    return int("".join(str(int(char, 36)) for char in rearranged)) % 97 == 1


def test_auth_init_code_and_access_token(sandbox):
    created = requests.post(
        sandbox.api_url + "/auth/init", json={"client_id": sandbox.client_id, "client_secret": sandbox.client_secret}
    ).json()
    assert created["type"] == "permanent" and created["expires_in"] is None and isinstance(created["id_user"], int)
    headers = {"Authorization": f"Bearer {created['auth_token']}"}
    for method in ("GET", "POST"):
        code = requests.request(method, sandbox.api_url + "/auth/token/code", headers=headers).json()
        assert code["type"] == "temporary" and code["access"] == "standard" and code["expires_in"] == 1800
    single = requests.get(sandbox.api_url + "/auth/token/code?type=singleAccess", headers=headers).json()
    assert single["access"] == "single"
    access = requests.post(
        sandbox.api_url + "/auth/token/access",
        json={"client_id": sandbox.client_id, "client_secret": sandbox.client_secret, "code": code["code"]},
    ).json()
    assert access["token_type"] == "Bearer"
    me = requests.get(sandbox.api_url + "/users/me", headers={"Authorization": f"Bearer {access['access_token']}"})
    assert me.json()["id"] == created["id_user"] and re.fullmatch(
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", me.json()["signin"]
    )


def test_anonymous_init_is_temporary_and_bad_client_refused(sandbox):
    anonymous = requests.post(sandbox.api_url + "/auth/init", json={}).json()
    assert anonymous["type"] == "temporary" and anonymous["expires_in"] == 1800
    refused = requests.post(sandbox.api_url + "/auth/init", json={"client_id": "1", "client_secret": "nope"})
    assert refused.status_code == 401


def test_bad_or_missing_token_is_401_with_error_body(sandbox):
    for headers in ({}, {"Authorization": "Bearer not-a-token"}):
        response = requests.get(sandbox.api_url + "/users/me/connections", headers=headers)
        assert response.status_code == 401
        assert set(response.json()) == {"code", "description", "message", "request_id"}


def test_delete_user_removes_everything(sandbox, sandbox_user, sandbox_connection):
    response = requests.delete(sandbox.api_url + "/users/me", headers=sandbox_user["headers"])
    assert response.status_code == 204 and response.content == b""
    assert requests.get(sandbox.api_url + "/users/me", headers=sandbox_user["headers"]).status_code == 401


def test_connector_catalogue_search_is_accent_and_case_insensitive(sandbox):
    connectors = requests.get(sandbox.api_url + "/connectors").json()["connectors"]
    names = {item["name"] for item in connectors}
    for bank in FRENCH_BANKS:
        assert any(name.startswith(bank) for name in names), bank
    assert sum(name.startswith("Crédit Agricole") for name in names) >= 3
    assert len({item["uuid"] for item in connectors}) == len(connectors)
    found = requests.get(sandbox.api_url + "/connectors", params={"search": "SOCIETE gen"}).json()["connectors"]
    assert [item["name"] for item in found] == ["Société Générale"]
    assert requests.get(sandbox.api_url + "/connectors?search=zzz").json() == {"connectors": []}
    one = requests.get(sandbox.api_url + f"/connectors/{found[0]['uuid']}?expand=fields").json()
    assert {field["name"] for field in one["fields"]} >= {"login", "password"}
    assert one["auth_mechanism"] in ("credentials", "webauth") and "bank" in one["capabilities"]
    assert requests.get(sandbox.api_url + f"/connectors/{one['id']}").json()["uuid"] == one["uuid"]


def test_connector_uuids_are_stable_uuid5(sandbox):
    uuid = connector_uuid(sandbox, TEST_BANK_NAME)
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", uuid)
    sandbox.control("POST", "/_sandbox/reset")
    assert connector_uuid(sandbox, TEST_BANK_NAME) == uuid


def test_connection_shape_and_expands(sandbox, sandbox_user, sandbox_connection):
    url = sandbox.api_url + f"/users/me/connections/{sandbox_connection['id']}"
    conn = requests.get(url + "?expand=accounts,connector,sources", headers=sandbox_user["headers"]).json()
    for key in (
        "id",
        "id_user",
        "id_connector",
        "connector_uuid",
        "state",
        "error",
        "error_message",
        "fields",
        "last_update",
        "created",
        "active",
        "last_push",
        "expire",
        "next_try",
    ):
        assert key in conn, key
    assert conn["state"] is None and conn["error"] is None and conn["id_user"] == sandbox_user["id_user"]
    assert conn["connector"]["name"] == TEST_BANK_NAME
    assert conn["sources"][0]["access_expire"] and conn["expire"] is None, "expire is a purge date, not the consent"
    assert len(conn["accounts"]) == 2
    listed = requests.get(sandbox.api_url + "/users/me/connections", headers=sandbox_user["headers"]).json()
    assert [item["id"] for item in listed["connections"]] == [conn["id"]]
    assert (
        requests.get(sandbox.api_url + "/users/me/connections/999999", headers=sandbox_user["headers"]).status_code
        == 404
    )


def test_accounts_have_valid_iban_and_consistent_balances(sandbox, sandbox_user, sandbox_connection):
    data = requests.get(sandbox.api_url + "/users/me/accounts", headers=sandbox_user["headers"]).json()
    assert set(data) >= {"accounts", "balances", "coming_balances", "balance", "total"}
    checking = data["accounts"][0]
    assert checking["type"] == "checking" and checking["currency"]["id"] == "EUR"
    assert re.fullmatch(r"FR\d{25}", checking["iban"]) and iban_is_valid(checking["iban"])
    assert re.fullmatch(r"[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?", checking["bic"])
    rows = requests.get(
        sandbox.api_url + f"/users/me/accounts/{checking['id']}/transactions?limit=1000",
        headers=sandbox_user["headers"],
    ).json()["transactions"]
    assert rows and rows[-1]["date"] < rows[0]["date"]
    coming = sum((Decimal(str(row["value"])) for row in rows if row["coming"]), Decimal(0))
    assert Decimal(str(checking["coming"])) == coming
    assert sum(Decimal(str(item["balance"])) for item in data["accounts"]) == Decimal(str(data["balances"]["EUR"]))


def test_disabled_accounts_hidden_unless_all_and_enable_by_post_or_put(sandbox, sandbox_user, sandbox_connection):
    headers = sandbox_user["headers"]
    account_id = sandbox_connection["accounts"][1]["id"]
    url = sandbox.api_url + f"/users/me/accounts/{account_id}"
    disabled = requests.post(url, json={"disabled": True}, headers=headers).json()
    assert disabled["disabled"] is not None
    assert requests.get(url, headers=headers).status_code == 404
    visible = requests.get(sandbox.api_url + "/users/me/accounts", headers=headers).json()["accounts"]
    assert account_id not in [item["id"] for item in visible]
    every = requests.get(
        sandbox.api_url + f"/users/me/connections/{sandbox_connection['id']}/accounts?all", headers=headers
    ).json()["accounts"]
    assert account_id in [item["id"] for item in every]
    enabled = requests.put(url + "?all", json={"disabled": False}, headers=headers).json()
    assert enabled["disabled"] is None
    rows = requests.get(url + "/transactions?limit=10", headers=headers).json()["transactions"]
    assert rows, "enabling an account fetches its history"


def test_no_enabled_account_gives_409_no_account(sandbox, sandbox_user, sandbox_connection):
    headers = sandbox_user["headers"]
    for account in sandbox_connection["accounts"]:
        requests.post(sandbox.api_url + f"/users/me/accounts/{account['id']}", json={"disabled": True}, headers=headers)
    response = requests.get(sandbox.api_url + "/users/me/transactions?limit=10", headers=headers)
    assert response.status_code == 409 and response.json()["code"] == "noAccount"


def test_delete_connection_is_a_hard_delete(sandbox, sandbox_user, sandbox_connection):
    url = sandbox.api_url + f"/users/me/connections/{sandbox_connection['id']}"
    assert requests.delete(url, headers=sandbox_user["headers"]).status_code == 204
    assert requests.get(url, headers=sandbox_user["headers"]).status_code == 404
    assert (
        requests.get(sandbox.api_url + "/users/me/accounts?all", headers=sandbox_user["headers"]).json()["accounts"]
        == []
    )


def test_other_users_data_is_invisible(sandbox, sandbox_connection):
    stranger = sandbox.control("POST", "/_sandbox/users")
    headers = {"Authorization": f"Bearer {stranger['auth_token']}"}
    url = sandbox.api_url + f"/users/me/connections/{sandbox_connection['id']}"
    assert requests.get(url, headers=headers).status_code == 404


def test_wordings_are_french_with_accents(sandbox, sandbox_user):
    uuid = connector_uuid(sandbox, TEST_BANK_NAME)
    conn = sandbox.control(
        "POST",
        f"/_sandbox/users/{sandbox_user['id_user']}/connections",
        {"connector_uuid": uuid, "accounts": 4, "months": 12},
    )
    rows = []
    for account in conn["accounts"]:
        rows += requests.get(
            sandbox.api_url + f"/users/me/accounts/{account['id']}/transactions?limit=1000",
            headers=sandbox_user["headers"],
        ).json()["transactions"]
    wordings = " ".join(row["original_wording"] for row in rows)
    assert any(char in "ÉÈÇÀÛ" for char in wordings), "accented French wordings"
    for marker in ("PRLV SEPA", "VIR SEPA", "CB ", "FRAIS BANCAIRES"):
        assert marker in wordings, marker
    types = {row["type"] for row in rows}
    assert {"card", "transfer", "bank", "deferred_card", "summary_card"} <= types
    foreign = [row for row in rows if row["original_currency"]]
    assert foreign and foreign[0]["original_currency"]["id"] in ("USD", "GBP", "CHF")
    assert set(foreign[0]["original_currency"]) >= {"id", "symbol", "precision"}
    parties = [
        row["counterparty"] for row in rows if row["counterparty"] and row["counterparty"]["account_identification"]
    ]
    assert {party["type"] for party in parties} == {"creditor", "debtor"}
    assert all(
        iban_is_valid(party["account_identification"]) for party in parties if party["account_scheme_name"] == "iban"
    )
    assert {party["account_scheme_name"] for party in parties} == {"iban", "cpan"}, "card payments name a card PAN"


def test_restore_goes_back_to_the_snapshot(sandbox, sandbox_user, sandbox_connection):
    """What a test adds, deletes or moves on the clock after the snapshot is gone once restored,
    and the id counters go back too: the next test meets the same ids."""
    account_id = sandbox_connection["accounts"][0]["id"]
    listing = sandbox.api_url + f"/users/me/accounts/{account_id}/transactions?limit=1000"
    before = requests.get(listing, headers=sandbox_user["headers"]).json()["transactions"]
    clock = sandbox.control("GET", "/_sandbox/clock")["now"]
    sandbox.control("POST", "/_sandbox/snapshot")
    added = sandbox.control("POST", f"/_sandbox/accounts/{account_id}/transactions", {"count": 2})["ids"]
    sandbox.control("POST", f"/_sandbox/transactions/{before[0]['id']}/delete")
    sandbox.control("POST", "/_sandbox/clock", {"advance_seconds": 5 * 86400})
    sandbox.control("POST", "/_sandbox/settings", {"naive_timezone": "UTC"})
    sandbox.control("POST", "/_sandbox/faults", {"kind": "500", "path": "/transactions"})
    sandbox.control("POST", "/_sandbox/restore")
    assert requests.get(listing, headers=sandbox_user["headers"]).json()["transactions"] == before
    assert sandbox.control("GET", "/_sandbox/clock")["now"][:13] == clock[:13]
    assert sandbox.control("GET", "/_sandbox/settings")["naive_timezone"] == "Europe/Paris"
    assert sandbox.control("GET", "/_sandbox/faults") == []
    again = sandbox.control("POST", f"/_sandbox/accounts/{account_id}/transactions", {"count": 2})["ids"]
    assert again == added


def test_restore_without_a_snapshot_is_refused():
    fresh = start_sandbox()
    try:
        response = requests.post(fresh.base_url + "/_sandbox/restore", timeout=10)
        assert (response.status_code, response.json()["code"]) == (409, "noSnapshot")
    finally:
        fresh.stop()
