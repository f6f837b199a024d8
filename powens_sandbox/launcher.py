"""Start and stop a sandbox in a process of its own, for test suites (plain pytest and Odoo's).

A real process over real HTTP on 127.0.0.1: tests exercise the same sockets, threads and
serialisation as the product does against Powens.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from .server import process_ended

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CLIENT_ID = "10000001"
CLIENT_SECRET = "sandbox-secret"
WEBHOOK_SECRET = "sandbox-webhook-secret"
STARTUP_TIMEOUT = 20


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def terminate(process, timeout=10):
    """End a child process: SIGTERM (its state saved, its coverage written), SIGKILL after ``timeout``."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class SandboxProcess:
    """A running sandbox: its URLs, its client application, and its control API."""

    client_id = CLIENT_ID
    client_secret = CLIENT_SECRET
    webhook_secret = WEBHOOK_SECRET

    def __init__(self, port, process=None):
        self.process = process  # the Popen of a child sandbox, None for a detached one
        self.pid = process.pid if process else None  # a detached one's: told by its health
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

    def running(self):
        if self.process is not None:
            return self.process.poll() is None
        return self.pid is not None and not process_ended(self.pid)

    def stop(self):
        if self.process is not None:
            terminate(self.process)
            return
        for stop_signal in (signal.SIGTERM, signal.SIGKILL):
            if not self.running():
                return
            os.kill(self.pid, stop_signal)
            deadline = time.monotonic() + 10
            while self.running() and time.monotonic() < deadline:
                time.sleep(0.05)


def start_sandbox(*extra_args, port=None, detached=False):
    """Start ``python -m powens_sandbox`` on ``port`` (a free one by default) and wait until it
    answers. ``detached``: not a child of this process (Odoo's test classes terminate every child
    they leave), stopped by ``stop`` or, at the latest, once this process has ended."""
    port = port or free_port()
    command = [sys.executable, "-m", "powens_sandbox", "--host", "127.0.0.1", "--port", str(port), *extra_args]
    options = {"cwd": PROJECT_ROOT, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    if detached:
        # setsid's own process forks the sandbox and exits: the sandbox is left to init.
        subprocess.run(["setsid", "--fork", *command, "--stop-with", str(os.getpid())], check=True, **options)
        sandbox = SandboxProcess(port)
    else:
        sandbox = SandboxProcess(port, subprocess.Popen(command, **options))
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if sandbox.process is not None and not sandbox.running():
            raise RuntimeError(f"powens_sandbox exited with code {sandbox.process.returncode}")
        try:
            health = requests.get(sandbox.base_url + "/_sandbox/health", timeout=1).json()
        except requests.RequestException:
            health = {}
        if health.get("status") == "ok":
            sandbox.pid = health["pid"]
            return sandbox
        time.sleep(0.05)
    sandbox.stop()
    raise RuntimeError("powens_sandbox did not become healthy in time")
