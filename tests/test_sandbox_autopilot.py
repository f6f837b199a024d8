"""Webview autopilot: pages that fill in and submit their own forms, for browser tests on another origin.

Over HTTP the tests do what the script does, with the values the page gives it, through the page's own forms;
a headless Chromium (when installed) then checks the script really plays whole flows without console errors.
"""

import json
import pathlib
import re
import shutil
import subprocess
import time
import urllib.parse

import pytest
import requests
from test_sandbox_webview import CALLBACK, callback_params, webview_code

from conftest import TEST_BANK_NAME, connector_uuid, start_sandbox
from powens_sandbox.driver import FormParser, WebviewDriver

PILOT_SETTINGS = re.compile(r"<script>\(function \(pilot\).*\}\((\{.*?\})\)\);</script>", re.DOTALL)
STEP_TIMEOUT = 15


def switch(sandbox, **settings) -> requests.Response:
    return requests.post(sandbox.base_url + "/_sandbox/autopilot", json=settings, timeout=10)


def pilot(page) -> dict:
    """The settings the page hands to its autopilot script, after checking the page is an autopilot page."""
    assert "Autopilot (tests)" in page.text
    return json.loads(PILOT_SETTINGS.search(page.text).group(1))


def form_actions(page) -> set[str]:
    parser = FormParser()
    parser.feed(page.text)
    return {form["action"] for form in parser.forms}


def test_control_call_switches_the_autopilot(sandbox):
    test_bank = connector_uuid(sandbox, TEST_BANK_NAME)
    assert sandbox.control("GET", "/_sandbox/autopilot") == {
        "enabled": False,
        "password": "autopilot",
        "bank": test_bank,
        "bank_name": TEST_BANK_NAME,
    }
    chosen = switch(sandbox, enabled=True, bank="connecteur de TEST", password="sca").json()
    assert chosen["enabled"] and chosen["password"] == "sca"
    assert chosen["bank"] == connector_uuid(sandbox, "Connecteur de test")
    assert switch(sandbox, enabled=True).json() == {
        "enabled": True,
        "password": "autopilot",
        "bank": test_bank,
        "bank_name": TEST_BANK_NAME,
    }, "omitted settings are defaults"
    assert switch(sandbox, enabled=True, bank=test_bank).json()["bank"] == test_bank
    assert switch(sandbox).json()["code"] == "missingParameter"
    assert switch(sandbox, enabled=True, bank="Banque imaginaire").status_code == 400
    assert switch(sandbox, enabled=False).json()["enabled"] is False
    switch(sandbox, enabled=True)
    sandbox.control("POST", "/_sandbox/reset")
    assert sandbox.control("GET", "/_sandbox/autopilot")["enabled"] is False


def test_pages_have_no_script_without_autopilot(sandbox, sandbox_user):
    page = WebviewDriver(sandbox.webview_url).open(
        "/en/connect", client_id=sandbox.client_id, redirect_uri=CALLBACK, code=webview_code(sandbox, sandbox_user)
    )
    assert "Choose your bank" in page.text
    assert "<script" not in page.text and "Autopilot" not in page.text


def test_each_step_page_plays_itself_through_the_same_forms(sandbox, sandbox_user):
    switch(sandbox, enabled=True, password="sca")
    browser = WebviewDriver(sandbox.webview_url)
    page = browser.open(
        "/en/connect",
        client_id=sandbox.client_id,
        redirect_uri=CALLBACK,
        state="a",
        code=webview_code(sandbox, sandbox_user),
    )
    settings = pilot(page)
    assert settings == {
        "step": "picker",
        "bank": connector_uuid(sandbox, TEST_BANK_NAME),
        "login": "autopilot",
        "password": "sca",
        "otp": "123456",
    }
    assert form_actions(page) == {"/en/connect"}
    page = browser.press(settings["bank"])
    assert pilot(page)["step"] == "credentials" and form_actions(page) == {"/en/connect"}
    page = browser.press("submit", login=settings["login"], password=settings["password"], accept_terms="yes")
    assert pilot(page)["step"] == "otp"
    page = browser.press("submit", otp=settings["otp"])
    assert pilot(page)["step"] == "accounts"
    every_account = [box["value"] for box in browser.checkboxes() if "disabled" not in box]
    params = callback_params(browser.press("submit", account=every_account))
    assert params["state"] == "a"
    connection = requests.get(
        sandbox.api_url + f"/users/me/connections/{params['connection_id']}?expand=accounts",
        headers=sandbox_user["headers"],
    ).json()
    assert connection["state"] is None and len(connection["accounts"]) == len(every_account)


def test_a_page_showing_an_error_stops_the_autopilot(sandbox, sandbox_user):
    switch(sandbox, enabled=True, password="wrongpass")
    browser = WebviewDriver(sandbox.webview_url)
    browser.open(
        "/en/connect",
        client_id=sandbox.client_id,
        redirect_uri=CALLBACK,
        code=webview_code(sandbox, sandbox_user),
        connector_uuids=connector_uuid(sandbox, TEST_BANK_NAME),
    )
    page = browser.press("submit", login="autopilot", password="wrongpass", accept_terms="yes")
    assert "Wrong login or password" in page.text
    assert "Autopilot (tests) — stopped" in page.text and "<script" not in page.text


def test_reconnect_and_manage_pages_confirm(sandbox, sandbox_user, sandbox_connection):
    switch(sandbox, enabled=True)
    lapsed = sandbox.control(
        "POST",
        f"/_sandbox/users/{sandbox_user['id_user']}/connections",
        {"connector_uuid": connector_uuid(sandbox, TEST_BANK_NAME), "password": "sca"},
    )
    browser = WebviewDriver(sandbox.webview_url)
    page = browser.open(
        "/en/reconnect",
        client_id=sandbox.client_id,
        redirect_uri=CALLBACK,
        code=webview_code(sandbox, sandbox_user),
        connection_id=lapsed["id"],
    )
    assert pilot(page)["step"] == "otp" and form_actions(page) == {"/en/reconnect"}
    page = browser.open(
        "/fr/manage", client_id=sandbox.client_id, redirect_uri=CALLBACK, code=webview_code(sandbox, sandbox_user)
    )
    assert pilot(page)["step"] == "manage"
    assert callback_params(browser.press("close")) == {}


@pytest.fixture(scope="module")
def autopilot_sandbox():
    handle = start_sandbox("--autopilot")
    yield handle
    handle.stop()


def test_command_line_flag_survives_reset(autopilot_sandbox):
    assert autopilot_sandbox.control("GET", "/_sandbox/autopilot")["enabled"] is True
    switch(autopilot_sandbox, enabled=False)
    autopilot_sandbox.control("POST", "/_sandbox/reset")
    assert autopilot_sandbox.control("GET", "/_sandbox/autopilot")["enabled"] is True


class Chromium:
    """Headless Chromium over the DevTools protocol, watching the console the way Odoo's tour runner does."""

    def __init__(self, profile: pathlib.Path):
        websocket = pytest.importorskip("websocket")
        self.process = subprocess.Popen(
            [
                shutil.which("chromium"),
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                # Other Chromium builds refuse the DevTools websocket of a client without an Origin.
                "--remote-allow-origins=*",
                "--disable-background-networking",
                "--disable-component-update",
                "--remote-debugging-port=0",
                f"--user-data-dir={profile}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + STEP_TIMEOUT
        while not port_file.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        port = port_file.read_text().split()[0]
        targets = requests.get(f"http://127.0.0.1:{port}/json/list", timeout=10).json()
        page_target = next(target for target in targets if target["type"] == "page")
        self.socket = websocket.create_connection(page_target["webSocketDebuggerUrl"], timeout=STEP_TIMEOUT)
        self.sent = 0
        for method in ("Runtime.enable", "Log.enable", "Page.enable"):
            self.send(method)

    def send(self, method: str, **params) -> None:
        self.sent += 1
        self.socket.send(json.dumps({"id": self.sent, "method": method, "params": params}))

    def follow(self, url: str, until: str) -> list[str]:
        """Opens `url`, waits until the page at `until` has loaded, and returns the console problems seen."""
        problems, arrived = [], False
        self.send("Page.navigate", url=url)
        deadline = time.monotonic() + STEP_TIMEOUT
        while time.monotonic() < deadline:
            message = json.loads(self.socket.recv())
            method, params = message.get("method"), message.get("params", {})
            if method in ("Runtime.consoleAPICalled", "Runtime.exceptionThrown") or (
                method == "Log.entryAdded" and params["entry"]["level"] == "error"
            ):
                problems.append(json.dumps(params)[:300])
            elif method == "Page.frameNavigated" and not params["frame"].get("parentId"):
                arrived = params["frame"]["url"].startswith(until)
            elif method == "Page.loadEventFired" and arrived:
                return problems
        raise AssertionError(f"the autopilot did not reach {until}; console: {problems}")

    def close(self) -> None:
        self.socket.close()
        self.process.terminate()
        self.process.wait(timeout=10)


@pytest.mark.skipif(not shutil.which("chromium"), reason="needs Chromium")
def test_chromium_plays_whole_flows_without_console_errors(autopilot_sandbox, tmp_path):
    sandbox = autopilot_sandbox
    landing = sandbox.base_url + "/_sandbox/health"
    user = sandbox.control("POST", "/_sandbox/users")
    user["headers"] = {"Authorization": f"Bearer {user['auth_token']}"}
    lapsed = sandbox.control(
        "POST",
        f"/_sandbox/users/{user['id_user']}/connections",
        {"connector_uuid": connector_uuid(sandbox, TEST_BANK_NAME), "password": "sca"},
    )

    def webview(path, **params):
        params.update(client_id=sandbox.client_id, redirect_uri=landing, code=webview_code(sandbox, user))
        return sandbox.base_url + path + "?" + urllib.parse.urlencode(params)

    browser = Chromium(tmp_path)
    try:
        for password in ("sca", "decoupled"):  # every page of the default flow, plus the one-time code or app step
            switch(sandbox, enabled=True, password=password)
            assert browser.follow(webview("/fr/connect", max_connections=2), landing) == [], password
        assert browser.follow(webview("/en/reconnect", connection_id=lapsed["id"]), landing) == []
        assert browser.follow(webview("/en/manage"), landing) == []
    finally:
        browser.close()
    connections = requests.get(sandbox.api_url + "/users/me/connections", headers=user["headers"]).json()
    assert len(connections["connections"]) == 3 and all(item["state"] is None for item in connections["connections"])
