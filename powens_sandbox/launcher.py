"""Start and stop a sandbox in a child process, for test suites (plain pytest and Odoo's).

A real process over real HTTP on 127.0.0.1: tests exercise the same sockets, threads and
serialisation as the product does against Powens.
"""

import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CLIENT_ID = "10000001"
CLIENT_SECRET = "sandbox-secret"
WEBHOOK_SECRET = "sandbox-webhook-secret"
STARTUP_TIMEOUT = 20


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SandboxProcess:
    """A running sandbox: its URLs, its client application, and its control API."""

    client_id = CLIENT_ID
    client_secret = CLIENT_SECRET
    webhook_secret = WEBHOOK_SECRET

    def __init__(self, process, port):
        self.process = process
        self.base_url = f"http://127.0.0.1:{port}"

    @property
    def api_url(self):
        return self.base_url + "/2.0"

    @property
    def webview_url(self):
        return self.base_url

    def control(self, method, path, json=None):
        """Call the control API and return the decoded JSON; raise on a non-2xx answer."""
        response = requests.request(method, self.base_url + path, json=json, timeout=30)
        response.raise_for_status()
        return response.json() if response.content else None

    def reset(self):
        self.control("POST", "/_sandbox/reset")

    def snapshot(self):
        self.control("POST", "/_sandbox/snapshot")

    def restore(self):
        self.control("POST", "/_sandbox/restore")

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_sandbox(*extra_args, port=None):
    """Start ``python -m powens_sandbox`` on ``port`` (a free one by default) and wait until it answers."""
    port = port or free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "powens_sandbox", "--host", "127.0.0.1", "--port", str(port), *extra_args],
        cwd=PROJECT_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    sandbox = SandboxProcess(process, port)
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"powens_sandbox exited with code {process.returncode}")
        try:
            if requests.get(sandbox.base_url + "/_sandbox/health", timeout=1).json() == {"status": "ok"}:
                return sandbox
        except requests.RequestException:
            time.sleep(0.05)
    sandbox.stop()
    raise RuntimeError("powens_sandbox did not become healthy in time")
