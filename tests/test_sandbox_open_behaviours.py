"""Sandbox behaviours Powens' documentation allows or leaves open, each behind a switch or a control call
(powens_sandbox/README.md, "Behaviours the documentation leaves open"): both sides are played here."""

import datetime as dt
import zoneinfo

import pytest
import requests

from conftest import TEST_BANK_NAME, connector_uuid
from powens_sandbox.driver import WebviewDriver

CALLBACK = "https://erp.example/powens/callback"


def transactions(sandbox, user, account_id, **params):
    response = requests.get(
        f"{sandbox.api_url}/users/me/accounts/{account_id}/transactions",
        params=dict(limit=1000, **params),
        headers=user["headers"],
        timeout=10,
    )
    response.raise_for_status()
    return response.json()["transactions"]


def new_connection(sandbox, user, months=1):
    return sandbox.control(
        "POST",
        f"/_sandbox/users/{user['id_user']}/connections",
        {
            "connector_uuid": connector_uuid(sandbox, TEST_BANK_NAME),
            "login": "alice",
            "password": "secret",
            "accounts": 1,
            "months": months,
        },
    )


# --- S4: webview path without a language ----------------------------------------------------------------


@pytest.mark.parametrize("flow", ["connect", "reconnect", "manage"])
def test_webview_path_without_language_is_refused_unless_switched(sandbox, flow):
    browser = WebviewDriver(sandbox.webview_url)
    refused = browser.open(f"/{flow}", client_id=sandbox.client_id, redirect_uri=CALLBACK)
    assert refused.status_code == 503 and "language" in refused.text
    assert (
        sandbox.control("POST", "/_sandbox/settings", {"webview_requires_language": False})["webview_requires_language"]
        is False
    )
    served = browser.open(f"/{flow}", client_id=sandbox.client_id, redirect_uri=CALLBACK)
    assert served.status_code != 503
    sandbox.reset()
    assert sandbox.control("GET", "/_sandbox/settings")["webview_requires_language"] is True


# --- S2: the first sync finishing after the callback ---------------------------------------------------


def test_first_sync_can_finish_after_the_connection_exists(sandbox, sandbox_user):
    sandbox.control("POST", "/_sandbox/settings", {"first_sync_delay": 600})
    connection = new_connection(sandbox, sandbox_user)
    account_id = connection["accounts"][0]["id"]
    assert transactions(sandbox, sandbox_user, account_id) == [], "accounts exist, movements still syncing"
    assert connection["last_update"] is None
    sandbox.control("POST", "/_sandbox/clock", {"advance_seconds": 601})
    assert transactions(sandbox, sandbox_user, account_id), "the first sync brought the history"


def test_first_sync_by_default_finishes_with_the_connection(sandbox, sandbox_user):
    connection = new_connection(sandbox, sandbox_user)
    assert transactions(sandbox, sandbox_user, connection["accounts"][0]["id"])


# --- S8: transactions Powens allows -------------------------------------------------------------------------


def test_card_payments_name_their_counterparty_by_card_pan(sandbox, sandbox_user):
    rows = transactions(sandbox, sandbox_user, new_connection(sandbox, sandbox_user)["accounts"][0]["id"])
    schemes = {(row["counterparty"] or {}).get("account_scheme_name") for row in rows}
    assert {"iban", "cpan"} <= schemes
    card = next(row for row in rows if (row["counterparty"] or {}).get("account_scheme_name") == "cpan")
    assert card["type"] in ("card", "deferred_card") and card["counterparty"]["account_identification"]


def test_an_old_row_edited_comes_back_to_a_last_update_pull(sandbox, sandbox_user):
    account_id = new_connection(sandbox, sandbox_user)["accounts"][0]["id"]
    rows = transactions(sandbox, sandbox_user, account_id)
    oldest = min(rows, key=lambda row: row["date"])
    now = sandbox.control("GET", "/_sandbox/clock")["now"]
    sandbox.control("POST", "/_sandbox/clock", {"advance_seconds": 60})
    assert transactions(sandbox, sandbox_user, account_id, last_update=now) == []
    edited = sandbox.control("POST", f"/_sandbox/transactions/{oldest['id']}/edit", {"value": None})
    assert edited["value"] is None and edited["last_update"] > now
    back = transactions(sandbox, sandbox_user, account_id, last_update=now)
    assert [(row["id"], row["date"], row["value"]) for row in back] == [(oldest["id"], oldest["date"], None)]


def test_a_row_without_last_update_is_listed_but_never_after_a_date(sandbox, sandbox_user):
    account_id = new_connection(sandbox, sandbox_user)["accounts"][0]["id"]
    row = transactions(sandbox, sandbox_user, account_id)[0]
    sandbox.control("POST", f"/_sandbox/transactions/{row['id']}/edit", {"last_update": None})
    listed = {item["id"]: item for item in transactions(sandbox, sandbox_user, account_id)}
    assert listed[row["id"]]["last_update"] is None
    assert row["id"] not in {
        item["id"] for item in transactions(sandbox, sandbox_user, account_id, last_update="2000-01-01 00:00:00")
    }


def test_edit_refuses_unknown_fields(sandbox, sandbox_user):
    row = transactions(sandbox, sandbox_user, new_connection(sandbox, sandbox_user)["accounts"][0]["id"])[0]
    response = requests.post(
        f"{sandbox.base_url}/_sandbox/transactions/{row['id']}/edit", json={"colour": "red"}, timeout=10
    )
    assert response.status_code == 400


# --- Naive datetimes: Paris or UTC ----------------------------------------------------------------------------


@pytest.mark.parametrize("zone", ["Europe/Paris", "UTC"])
def test_naive_datetimes_follow_the_zone_switch(sandbox, sandbox_user, zone):
    sandbox.control("POST", "/_sandbox/settings", {"naive_timezone": zone})
    account_id = new_connection(sandbox, sandbox_user)["accounts"][0]["id"]
    stamp = dt.datetime.fromisoformat(transactions(sandbox, sandbox_user, account_id)[0]["last_update"])
    expected = dt.datetime.now(dt.UTC).astimezone(zoneinfo.ZoneInfo(zone)).replace(tzinfo=None)
    assert abs(stamp - expected) < dt.timedelta(minutes=1)


def test_unknown_settings_are_refused(sandbox):
    for body in ({"naive_timezone": "America/New_York"}, {"colour": "red"}):
        assert requests.post(f"{sandbox.base_url}/_sandbox/settings", json=body, timeout=10).status_code == 400
