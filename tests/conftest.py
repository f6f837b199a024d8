"""Shared test fixtures: a real Powens sandbox subprocess over HTTP, and the add-on's pure-Python client on sys.path.

`sandbox_server` (session) starts `python -m powens_sandbox` on a free port; `sandbox` is the same server after
POST /_sandbox/reset, so every test starts from an empty domain with the clock back to real time.
"""
import dataclasses
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "ingeneo_powens"))

CLIENT_ID = "10000001"
CLIENT_SECRET = "sandbox-secret"
WEBHOOK_SECRET = "sandbox-webhook-secret"
STARTUP_TIMEOUT = 20


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclasses.dataclass
class SandboxHandle:
    base_url: str
    process: subprocess.Popen
    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET
    webhook_secret: str = WEBHOOK_SECRET

    @property
    def api_url(self) -> str:
        return self.base_url + "/2.0"

    @property
    def webview_url(self) -> str:
        return self.base_url

    def control(self, method: str, path: str, json=None):
        """Calls the control API and returns the decoded JSON; raises on a non-2xx answer."""
        response = requests.request(method, self.base_url + path, json=json, timeout=30)
        response.raise_for_status()
        return response.json() if response.content else None


def start_sandbox(*extra_args: str) -> SandboxHandle:
    """Starts a sandbox subprocess and waits until /_sandbox/health answers."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "powens_sandbox", "--host", "127.0.0.1", "--port", str(port), *extra_args],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    handle = SandboxHandle(base_url=f"http://127.0.0.1:{port}", process=process)
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"powens_sandbox exited with code {process.returncode}")
        try:
            if requests.get(handle.base_url + "/_sandbox/health", timeout=1).json() == {"status": "ok"}:
                return handle
        except requests.RequestException:
            time.sleep(0.05)
    stop_sandbox(handle)
    raise RuntimeError("powens_sandbox did not become healthy in time")


def stop_sandbox(handle: SandboxHandle) -> None:
    handle.process.terminate()
    try:
        handle.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        handle.process.kill()
        handle.process.wait()


@pytest.fixture(scope="session")
def sandbox_server():
    handle = start_sandbox()
    yield handle
    stop_sandbox(handle)


@pytest.fixture
def sandbox(sandbox_server):
    sandbox_server.control("POST", "/_sandbox/reset")
    return sandbox_server


TEST_BANK_NAME = "Banque de test (sandbox)"


def connector_uuid(handle: SandboxHandle, name: str) -> str:
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
    return sandbox.control("POST", f"/_sandbox/users/{sandbox_user['id_user']}/connections",
                           {"connector_uuid": connector_uuid(sandbox, TEST_BANK_NAME), "login": "alice",
                            "password": "secret"})
