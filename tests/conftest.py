"""Shared test fixtures: a real Powens sandbox subprocess over HTTP (pytest.ini puts the project
and the add-on's pure-Python `powens` package on the import path).

`sandbox_server` (session) starts `python -m powens_sandbox` on a free port; `sandbox` is the same server after
POST /_sandbox/reset, so every test starts from an empty domain with the clock back to real time.
"""

import pytest
import requests

from powens_sandbox.driver import TEST_BANK_NAME
from powens_sandbox.launcher import SandboxProcess, start_sandbox


@pytest.fixture(scope="session")
def sandbox_server():
    handle = start_sandbox()
    yield handle
    handle.stop()


@pytest.fixture
def sandbox(sandbox_server):
    sandbox_server.reset()
    return sandbox_server


def connector_uuid(handle: SandboxProcess, name: str) -> str:
    connectors = requests.get(handle.api_url + "/connectors", timeout=10).json()["connectors"]
    return next(item["uuid"] for item in connectors if item["name"] == name)


@pytest.fixture
def sandbox_user(sandbox):
    """A permanent Powens user of the sandbox, with ready-made Bearer headers."""
    user = sandbox.control("POST", "/_sandbox/users")
    return dict(user, headers={"Authorization": f"Bearer {user['auth_token']}"})


@pytest.fixture
def sandbox_connection(sandbox, sandbox_user):
    """A healthy connection on the simulator's test bank with two enabled accounts and synced history."""
    return sandbox.control(
        "POST",
        f"/_sandbox/users/{sandbox_user['id_user']}/connections",
        {"connector_uuid": connector_uuid(sandbox, TEST_BANK_NAME), "login": "alice", "password": "secret"},
    )
