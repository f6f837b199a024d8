"""Injected faults: each kind, path matching, counts, and the record of API calls."""

import time

import pytest
import requests


def test_http_error_faults_with_powens_error_body(sandbox):
    sandbox.control("POST", "/_sandbox/faults", {"kind": "500"})
    sandbox.control("POST", "/_sandbox/faults", {"kind": "503"})
    sandbox.control("POST", "/_sandbox/faults", {"kind": "429", "retry_after": 7})
    statuses = []
    for _ in range(4):
        response = requests.get(sandbox.api_url + "/connectors")
        statuses.append(response.status_code)
        if response.status_code >= 400:
            assert set(response.json()) == {"code", "description", "message", "request_id"}
        if response.status_code == 429:
            assert response.headers["Retry-After"] == "7"
    assert statuses == [500, 503, 429, 200]


def test_fault_count_and_path_filter(sandbox):
    sandbox.control("POST", "/_sandbox/faults", {"kind": "503", "count": 2, "path": "/connectors/"})
    assert sandbox.control("GET", "/_sandbox/faults")[0]["count"] == 2
    assert requests.get(sandbox.api_url + "/connectors").status_code == 200
    assert requests.get(sandbox.api_url + "/connectors/40").status_code == 503
    assert requests.get(sandbox.api_url + "/connectors/40").status_code == 503
    assert requests.get(sandbox.api_url + "/connectors/40").status_code == 200
    assert requests.get(sandbox.base_url + "/_sandbox/health").status_code == 200
    sandbox.control("POST", "/_sandbox/faults", {"kind": "500", "count": 5})
    assert sandbox.control("DELETE", "/_sandbox/faults") == []
    assert requests.get(sandbox.api_url + "/connectors").status_code == 200


def test_malformed_body_is_truncated_json(sandbox):
    sandbox.control("POST", "/_sandbox/faults", {"kind": "malformed"})
    response = requests.get(sandbox.api_url + "/connectors")
    assert response.status_code == 200
    with pytest.raises(ValueError):
        response.json()


def test_timeout_stalls_the_answer(sandbox):
    sandbox.control("POST", "/_sandbox/faults", {"kind": "timeout", "timeout_seconds": 1.5})
    started = time.monotonic()
    with pytest.raises(requests.Timeout):
        requests.get(sandbox.api_url + "/connectors", timeout=0.5)
    assert time.monotonic() - started < 1.4


def test_drop_closes_the_connection(sandbox):
    sandbox.control("POST", "/_sandbox/faults", {"kind": "drop"})
    with pytest.raises(requests.ConnectionError):
        requests.get(sandbox.api_url + "/connectors", timeout=5)
    assert requests.get(sandbox.api_url + "/connectors", timeout=5).status_code == 200


def test_unknown_fault_kind_is_refused(sandbox):
    response = requests.post(sandbox.base_url + "/_sandbox/faults", json={"kind": "explode"})
    assert response.status_code == 400


def test_calls_are_recorded_oldest_first(sandbox, sandbox_user):
    sandbox.control("DELETE", "/_sandbox/calls")
    requests.get(sandbox.api_url + "/connectors", params={"search": "ing"})
    requests.get(
        sandbox.api_url + "/users/me/transactions", params={"limit": 5, "all": ""}, headers=sandbox_user["headers"]
    )
    calls = sandbox.control("GET", "/_sandbox/calls")
    assert [(item["method"], item["path"], item["status"]) for item in calls] == [
        ("GET", "/2.0/connectors", 200),
        ("GET", "/2.0/users/me/transactions", 409),
    ]
    assert calls[0]["query"] == {"search": "ing"} and calls[1]["query"] == {"limit": "5", "all": ""}
