"""Connection states over time: SCA, decoupled/resume, consent lapse, psu_requested, delayed first sync, persistence."""

import requests

from conftest import TEST_BANK_NAME, connector_uuid, start_sandbox


def get_connection(sandbox, user, conn_id, **params):
    return requests.get(
        sandbox.api_url + f"/users/me/connections/{conn_id}", params=params, headers=user["headers"]
    ).json()


def sync(sandbox, user, conn_id, **params):
    response = requests.put(
        sandbox.api_url + f"/users/me/connections/{conn_id}", params=params, headers=user["headers"]
    )
    assert response.status_code == 200, response.text
    return response.json()


def total_rows(sandbox, user):
    return requests.get(sandbox.api_url + "/users/me/transactions?limit=1&all", headers=user["headers"]).json()["total"]


def test_unattended_sync_never_triggers_sca_and_fetches_nothing(sandbox, sandbox_user, sandbox_connection):
    conn_id = sandbox_connection["id"]
    sandbox.control("POST", f"/_sandbox/connections/{conn_id}/state", {"state": "SCARequired", "error_message": None})
    before = total_rows(sandbox, sandbox_user)
    sandbox.control("POST", "/_sandbox/clock", {"advance_seconds": 3 * 86400})
    unattended = sync(sandbox, sandbox_user, conn_id, psu_requested="false")
    assert unattended["state"] == "SCARequired" and unattended["last_update"] == sandbox_connection["last_update"]
    assert total_rows(sandbox, sandbox_user) == before
    attended = sync(sandbox, sandbox_user, conn_id)
    assert attended["state"] == "decoupled", "a forced sync with the user present starts SCA"


def test_decoupled_resume_goes_validating_then_ok_with_fresh_consent(sandbox, sandbox_user, sandbox_connection):
    conn_id = sandbox_connection["id"]
    sandbox.control("POST", f"/_sandbox/connections/{conn_id}/state", {"state": "decoupled"})
    sandbox.control("POST", "/_sandbox/clock", {"advance_seconds": 86400})
    resumed = requests.post(
        sandbox.api_url + f"/users/me/connections/{conn_id}", json={"resume": True}, headers=sandbox_user["headers"]
    ).json()
    assert resumed["state"] == "validating"
    done = get_connection(sandbox, sandbox_user, conn_id, expand="sources")
    assert done["state"] is None
    assert done["sources"][0]["access_expire"] > sandbox_connection["sources"][0]["access_expire"]
    assert done["last_update"] > sandbox_connection["last_update"]


def test_consent_lapses_after_180_days(sandbox, sandbox_user, sandbox_connection):
    conn_id = sandbox_connection["id"]
    sandbox.control("POST", "/_sandbox/clock", {"advance_seconds": 179 * 86400})
    assert get_connection(sandbox, sandbox_user, conn_id)["state"] is None
    now = sandbox.control("POST", "/_sandbox/clock", {"advance_seconds": 2 * 86400})["now"]
    conn = get_connection(sandbox, sandbox_user, conn_id, expand="sources")
    assert conn["state"] == "SCARequired" and conn["error"] == "SCARequired"
    assert conn["sources"][0]["access_expire"] < now
    before = total_rows(sandbox, sandbox_user)
    sandbox.control("POST", f"/_sandbox/connections/{conn_id}/sync")
    assert total_rows(sandbox, sandbox_user) == before
    assert get_connection(sandbox, sandbox_user, conn_id)["state"] == "SCARequired"


def test_clock_can_be_set_to_a_paris_time(sandbox):
    assert sandbox.control("POST", "/_sandbox/clock", {"now": "2030-03-31 02:30:00"})["now"] == "2030-03-31 03:30:00"
    assert sandbox.control("POST", "/_sandbox/clock", {"now": "2030-01-15 09:00:00"})["now"].startswith(
        "2030-01-15 09:00"
    )


def test_wrong_credentials_then_fixed_password(sandbox, sandbox_user, sandbox_connection):
    url = sandbox.api_url + f"/users/me/connections/{sandbox_connection['id']}"
    wrong = requests.post(url, json={"login": "alice", "password": "wrongpass"}, headers=sandbox_user["headers"])
    assert wrong.status_code == 400 and wrong.json()["code"] == "wrongpass"
    conn = get_connection(sandbox, sandbox_user, sandbox_connection["id"])
    assert conn["state"] == "wrongpass" and conn["fields"]
    fixed = requests.post(url, json={"password": "new-secret"}, headers=sandbox_user["headers"]).json()
    assert fixed["state"] is None


def test_transient_and_user_action_states_from_test_bank(sandbox, sandbox_user):
    uuid = connector_uuid(sandbox, TEST_BANK_NAME)
    expected = {
        "actionneeded": "actionNeeded",
        "passwordexpired": "passwordExpired",
        "unavailable": "websiteUnavailable",
        "sca": "SCARequired",
        "decoupled": "decoupled",
        "wrongpass": "wrongpass",
    }
    for password, state in expected.items():
        conn = sandbox.control(
            "POST",
            f"/_sandbox/users/{sandbox_user['id_user']}/connections",
            {"connector_uuid": uuid, "password": password},
        )
        assert conn["state"] == state, password
        synced = sandbox.control("POST", f"/_sandbox/connections/{conn['id']}/sync")
        assert synced["state"] == (None if state == "websiteUnavailable" else state), password


def test_first_sync_waits_for_the_configured_delay():
    handle = start_sandbox("--first-sync-delay", "3600")
    try:
        user = handle.control("POST", "/_sandbox/users")
        headers = {"Authorization": f"Bearer {user['auth_token']}"}
        conn = handle.control(
            "POST",
            f"/_sandbox/users/{user['id_user']}/connections",
            {"connector_uuid": connector_uuid(handle, TEST_BANK_NAME)},
        )
        assert len(conn["accounts"]) == 2 and conn["last_update"] is None
        url = handle.api_url + "/users/me/transactions?limit=10"
        assert requests.get(url, headers=headers).json()["transactions"] == []
        handle.control("POST", "/_sandbox/clock", {"advance_seconds": 3601})
        assert requests.get(url, headers=headers).json()["transactions"]
    finally:
        handle.stop()


def test_state_file_keeps_data_between_runs(tmp_path):
    state_file = str(tmp_path / "sandbox.json")
    first = start_sandbox("--state", state_file)
    try:
        user = first.control("POST", "/_sandbox/users")
        conn = first.control(
            "POST",
            f"/_sandbox/users/{user['id_user']}/connections",
            {"connector_uuid": connector_uuid(first, TEST_BANK_NAME)},
        )
    finally:
        first.stop()
    second = start_sandbox("--state", state_file)
    try:
        headers = {"Authorization": f"Bearer {user['auth_token']}"}
        again = requests.get(
            second.api_url + f"/users/me/connections/{conn['id']}?expand=accounts", headers=headers
        ).json()
        assert [item["balance"] for item in again["accounts"]] == [item["balance"] for item in conn["accounts"]]
    finally:
        second.stop()
