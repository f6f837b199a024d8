"""Starting and stopping a sandbox for a test run: as a child process, or detached (Odoo's test
classes terminate every child they leave), then stopped on demand or, at the latest, once the
run that started it has ended."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from powens_sandbox.launcher import PROJECT_ROOT, start_sandbox
from powens_sandbox.server import process_ended


def parent_of(pid):
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def wait_until_ended(pid, timeout=10):
    deadline = time.monotonic() + timeout
    while not process_ended(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return process_ended(pid)


def test_a_child_sandbox_tells_its_process_and_stops():
    sandbox = start_sandbox()
    try:
        assert sandbox.control("GET", "/_sandbox/health") == {"status": "ok", "pid": sandbox.process.pid}
        assert parent_of(sandbox.pid) == os.getpid()
    finally:
        sandbox.stop()
    assert not sandbox.running()


def test_a_detached_sandbox_is_no_child_of_the_run_and_stops_on_demand():
    sandbox = start_sandbox(detached=True)
    try:
        assert sandbox.process is None and sandbox.running()
        assert sandbox.control("GET", "/_sandbox/health") == {"status": "ok", "pid": sandbox.pid}
        assert parent_of(sandbox.pid) != os.getpid()
    finally:
        sandbox.stop()
    assert not sandbox.running()
    with pytest.raises(requests.ConnectionError):
        requests.get(sandbox.base_url + "/_sandbox/health", timeout=5)


def test_a_detached_sandbox_stops_once_the_run_that_started_it_has_ended():
    """The run starts a detached sandbox and ends without stopping it (a crashed test run)."""
    run = (
        "from powens_sandbox.launcher import start_sandbox; "
        "sandbox = start_sandbox(detached=True); print(sandbox.base_url, sandbox.pid)"
    )
    base_url, pid = subprocess.run(
        [sys.executable, "-c", run], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True, timeout=60
    ).stdout.split()
    assert wait_until_ended(int(pid)), "the sandbox outlived its run"
    with pytest.raises(requests.ConnectionError):
        requests.get(base_url + "/_sandbox/health", timeout=5)


def test_an_exited_process_not_yet_reaped_has_ended():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        assert wait_until_ended(child.pid), "a zombie is an ended process"
    finally:
        child.wait()
    assert process_ended(child.pid)
