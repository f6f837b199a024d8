"""The README's pictures: both ways of connecting a bank, step by step, in French.

Run by `bin/workbench screenshots`, which serves a throwaway copy of `make run`'s demo database
and its own Powens sandbox (without autopilot: the webview pages are pictured and filled here).
Drives headless Chromium through its DevTools protocol, as Odoo's test browser does, and writes
small PNGs (256 colours) into docs/img/.

    python -m scripts.screenshots --odoo URL --sandbox URL --out docs/img   (from the project)
"""

import argparse
import base64
import io
import itertools
import json
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import requests
import websocket
from PIL import Image

from powens_sandbox import connectors
from powens_sandbox.bank_data import discover_accounts
from powens_sandbox.config import SandboxConfig
from powens_sandbox.webview import DISCOVERED_ACCOUNTS

WIDTH, HEIGHT = 1280, 800
TIMEOUT = 60


class Browser:
    """One headless Chromium page, driven over the DevTools websocket."""

    def __init__(self):
        self.profile = tempfile.mkdtemp(prefix="ingeneo-screenshots-")
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.process = subprocess.Popen(
            [
                shutil.which("chromium") or "chromium",
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                "--no-first-run",
                "--lang=fr-FR",
                f"--window-size={WIDTH},{HEIGHT}",
                "--remote-allow-origins=*",
                "--disable-background-networking",
                "--disable-component-update",
                f"--remote-debugging-port={port}",
                f"--user-data-dir={self.profile}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        page = self._until(
            lambda: next(
                (
                    target
                    for target in requests.get(f"http://127.0.0.1:{port}/json", timeout=2).json()
                    if target["type"] == "page"
                ),
                None,
            )
        )
        self.socket = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=TIMEOUT)
        self.ids = itertools.count(1)
        self.send("Emulation.setDeviceMetricsOverride", width=WIDTH, height=HEIGHT, deviceScaleFactor=1, mobile=False)

    @staticmethod
    def _until(probe, timeout=TIMEOUT, what="the browser"):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                result = probe()
            except (requests.RequestException, websocket.WebSocketException):
                result = None
            if result:
                return result
            time.sleep(0.2)
        raise TimeoutError(f"timed out waiting for {what}")

    def send(self, method, **params):
        message_id = next(self.ids)
        self.socket.send(json.dumps({"id": message_id, "method": method, "params": params}))
        while True:
            answer = json.loads(self.socket.recv())
            if answer.get("id") == message_id:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return answer.get("result", {})

    def evaluate(self, expression):
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def goto(self, url):
        self.send("Page.navigate", url=url)
        time.sleep(0.5)
        self._until(lambda: self.evaluate("document.readyState") == "complete", what=url)

    def _find(self, selector, text=None):
        """JS yielding the first visible element matching ``selector`` (and holding ``text``)."""
        return (
            f"[...document.querySelectorAll({json.dumps(selector)})].find(element => "
            f"element.offsetParent !== null && element.textContent.includes({json.dumps(text or '')}))"
        )

    def wait(self, selector, text=None):
        self._until(lambda: self.evaluate(f"!!({self._find(selector, text)})"), what=f"{selector} {text or ''}")

    def click(self, selector, text=None):
        self.wait(selector, text)
        self.evaluate(f"({self._find(selector, text)}).click()")

    def type(self, selector, value):
        """Set the value as typing would: Odoo's fields listen to input and change."""
        self.wait(selector)
        self.evaluate(f"""(() => {{
            const element = {self._find(selector)};
            element.focus();
            element.value = {json.dumps(value)};
            element.dispatchEvent(new Event("input", {{bubbles: true}}));
            element.dispatchEvent(new Event("change", {{bubbles: true}}));
        }})()""")

    def settle(self):
        """Let Odoo finish rendering (network idle, no spinner, animations done)."""
        self._until(
            lambda: self.evaluate(
                "!document.querySelector('.o_loading_indicator, .o_blockUI, .o-overlay-item .o_loading')"
            ),
            what="Odoo to finish loading",
        )
        time.sleep(0.8)

    def shoot(self, path):
        self.settle()
        data = base64.b64decode(self.send("Page.captureScreenshot", format="png")["data"])
        image = Image.open(io.BytesIO(data)).convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
        image.save(path, optimize=True)
        print(f"{path}  {path.stat().st_size // 1024} KB")

    def click_in_row(self, row_selector, text, button_selector):
        """Click ``button_selector`` inside the first row matching ``row_selector`` that holds ``text``."""
        self.wait(row_selector, text)
        self.evaluate(f"({self._find(row_selector, text)}).querySelector({json.dumps(button_selector)}).click()")

    def rpc(self, model, method, *args, **kwargs):
        """Call the ORM as the logged-in user, as the web client does."""
        body = {
            "jsonrpc": "2.0",
            "method": "call",
            "params": {"model": model, "method": method, "args": list(args), "kwargs": kwargs},
        }
        return self.evaluate(f"""fetch("/web/dataset/call_kw/{model}/{method}", {{
            method: "POST", headers: {{"Content-Type": "application/json"}}, body: {json.dumps(json.dumps(body))},
        }}).then(response => response.json()).then(answer => answer.result)""")

    def log_in(self, odoo_url, login):
        # Odoo 19's login page also remembers the last users, in the origin's local storage.
        self.send("Storage.clearDataForOrigin", origin=odoo_url, storageTypes="all")
        self.goto(f"{odoo_url}/web/login")
        self.type("input[name=login]", login)
        self.type("input[name=password]", login)
        self.evaluate("document.querySelector('form.oe_login_form').submit()")
        time.sleep(1)
        self.wait(".o_main_navbar")

    def close(self):
        self.socket.close()
        self.process.terminate()
        self.process.wait(timeout=10)
        shutil.rmtree(self.profile, ignore_errors=True)


def open_referential(browser):
    browser.click(".o_navbar_apps_menu button")
    browser.click(".o_app[data-menu-xmlid='account.menu_finance']")
    browser.click(".o_menu_sections [data-menu-xmlid='ingeneo_powens.menu_accounting_referential']")
    browser.click(".o-dropdown-item[data-menu-xmlid='ingeneo_powens.menu_accounting_referential_company']")
    browser.click(".o_form_view a.nav-link[name=accounting_referential]")


def open_bank(browser, name):
    open_referential(browser)
    browser.click_in_row(".o_field_widget[name=bank_journal_ids] .o_data_row", name, "button.btn-link")
    browser.click(".o_form_view a.nav-link[name=powens]")


# Who goes through Powens' pages in the pictures.
HOLDER_LOGIN = "martin.boulangerie"


def holder_iban(bank):
    """The IBAN of the holder's first account at ``bank``, as on a statement: the sandbox's
    banks are deterministic."""
    connector = connectors.find_by_name(bank)
    return discover_accounts(SandboxConfig.seed, connector, HOLDER_LOGIN, DISCOVERED_ACCOUNTS)[0].iban


def through_the_webview(browser, bank, shots=None, share_all=False):
    """Powens' pages: the bank, the credentials, the accounts (the first one, or all of them);
    back to INGENEO."""
    shots = shots or {}
    browser.type("input[name=search]", bank)
    browser.evaluate("document.querySelector('input[name=search]').form.submit()")
    browser.wait("button[name=connector]", bank)
    if "picker" in shots:
        browser.shoot(shots["picker"])
    browser.click("button[name=connector]", bank)
    browser.type("input[name=login]", HOLDER_LOGIN)
    browser.type("input[name=password]", "motdepasse")
    browser.evaluate(
        "document.querySelector('#accept_terms') && (document.querySelector('#accept_terms').checked = true)"
    )
    if "credentials" in shots:
        browser.shoot(shots["credentials"])
    browser.click("button[value=submit]")
    browser.wait("input[name=account]")
    browser.evaluate(
        "document.querySelectorAll('input[name=account]:not(:disabled)')"
        f".forEach((box, index) => {{ box.checked = {'true' if share_all else 'index === 0'}; }})"
    )
    if "accounts" in shots:
        browser.shoot(shots["accounts"])
    browser.click("button[value=submit]")
    time.sleep(1)
    browser.wait(".o_main_navbar")


def option_1(browser, odoo, out):
    browser.log_in(odoo, "comptable")
    open_referential(browser)
    browser.shoot(out / "01-referentiel-comptable.png")
    browser.click("button[name=action_add_bank]")
    browser.type(".modal .o_field_widget[name=name] input", "Crédit Mutuel - compte pro")
    browser.shoot(out / "02-ajouter-une-banque.png")
    browser.click(".modal-footer button[name=action_save]")
    browser.wait(".o_field_widget[name=bank_journal_ids] .o_data_row", "Crédit Mutuel - compte pro")
    browser.click_in_row(
        ".o_field_widget[name=bank_journal_ids] .o_data_row", "Crédit Mutuel - compte pro", "button.btn-link"
    )
    browser.click(".o_form_view a.nav-link[name=powens]")
    browser.wait("button[name=action_powens_connect]")
    browser.shoot(out / "03-onglet-powens.png")
    browser.click("button[name=action_powens_connect]")
    browser.click(".modal .o_field_widget[name=accepted] input")
    browser.wait(".modal-footer button[name=action_continue]")
    browser.shoot(out / "04-consentement.png")
    browser.click(".modal-footer button[name=action_continue]")
    browser.wait("input[name=search]")
    through_the_webview(
        browser,
        "Crédit Mutuel",
        {
            "picker": out / "05-powens-choix-de-la-banque.png",
            "credentials": out / "06-powens-identifiants.png",
            "accounts": out / "07-powens-comptes.png",
        },
    )
    # Back on the bank's POWENS tab, the choice of its account open at once.
    browser.click(".modal .o_field_widget[name=account_id] .o_radio_input")
    browser.shoot(out / "08-choisir-le-compte-bancaire.png")
    browser.click(".modal-footer button[name=action_link]")
    browser.wait(".o_field_widget[name=powens_state]", "En attente de la première récupération")
    browser.shoot(out / "09-en-attente-de-la-premiere-recuperation.png")
    browser.click("button[name=action_powens_sync]")
    browser.wait(".o_field_widget[name=powens_state]", "Connectée")
    browser.click("button[name=action_powens_open_lines]")
    browser.wait(".o_list_view .o_data_row")
    browser.shoot(out / "10-mouvements-importes.png")


def first_connection(browser, odoo, out):
    """Issue 16: the bank added with its IBAN comes back from Powens on its POWENS tab, linked
    by itself, and the other accounts shared are offered as banks."""
    name = "CIC - compte courant"
    browser.log_in(odoo, "comptable")
    open_referential(browser)
    browser.click("button[name=action_add_bank]")
    browser.type(".modal .o_field_widget[name=name] input", name)
    browser.type(".modal .o_field_widget[name=acc_number] input", holder_iban("CIC"))
    browser.shoot(out / "19-ajouter-une-banque-avec-iban.png")
    browser.click(".modal-footer button[name=action_save]")
    browser.wait(".o_field_widget[name=bank_journal_ids] .o_data_row", name)
    browser.click_in_row(".o_field_widget[name=bank_journal_ids] .o_data_row", name, "button.btn-link")
    browser.click(".o_form_view a.nav-link[name=powens]")
    browser.click("button[name=action_powens_connect]")
    browser.click(".modal .o_field_widget[name=accepted] input")
    browser.click(".modal-footer button[name=action_continue]")
    browser.wait("input[name=search]")
    through_the_webview(browser, "CIC", share_all=True)
    browser.wait(".modal .o_field_widget[name=account_ids]")
    browser.shoot(out / "20-ajouter-les-autres-comptes.png")
    browser.click(".modal-footer button[data-hotkey=x]")
    browser.wait(".o_form_view a.nav-link.active[name=powens]")
    browser.wait(".o_field_widget[name=powens_state]", "En attente de la première récupération")
    browser.shoot(out / "21-onglet-powens-apres-connexion.png")
    # The first retrieval: the journal had no line, the opening balance is offered; then no gap.
    journal_id = int(
        browser.evaluate(
            "new URLSearchParams(location.search).get('journal_id') || location.pathname.match(/(\\d+)$/)[1]"
        )
    )
    first_retrieval(browser, journal_id)
    browser.goto(f"{odoo}/odoo/account.journal/{journal_id}")
    browser.click(".o_form_view a.nav-link[name=powens]")
    browser.wait("button[name=action_powens_create_opening_balance]")
    browser.shoot(out / "22-creer-le-solde-d-ouverture.png")
    browser.click("button[name=action_powens_create_opening_balance]")
    browser.wait(".o_field_widget[name=powens_without_gap_until]")
    browser._until(
        lambda: not browser.evaluate(f"!!({browser._find('button[name=action_powens_create_opening_balance]')})"),
        what="the opening balance to be created",
    )
    browser.shoot(out / "23-sans-ecart-jusqu-au.png")


def first_retrieval(browser, journal_id, timeout=300):
    """Start "Synchroniser maintenant" without waiting for it (a year of history takes longer
    than the browser's timeout, and the retrieval Powens' notification started may hold the bank
    meanwhile), then wait until the first retrieval offers the opening balance."""
    body = {
        "jsonrpc": "2.0",
        "method": "call",
        "params": {"model": "account.journal", "method": "action_powens_sync", "args": [[journal_id]], "kwargs": {}},
    }
    browser.evaluate(f"""(fetch("/web/dataset/call_kw/account.journal/action_powens_sync", {{
        method: "POST", headers: {{"Content-Type": "application/json"}}, body: {json.dumps(json.dumps(body))},
    }}), true)""")

    def opening_offered():
        rows = browser.rpc("account.journal", "read", [journal_id], fields=["powens_opening_state"]) or [{}]
        return rows[0].get("powens_opening_state") == "to_create"

    browser._until(opening_offered, timeout=timeout, what="the first retrieval")


def option_2(browser, odoo, out):
    browser.log_in(odoo, "comptable")
    open_bank(browser, "Banque Populaire")
    browser.click("button[name=action_powens_manage]")
    browser.wait(".modal-footer button[name=action_powens_choose_request_user]")
    browser.shoot(out / "11-gerer-la-recuperation-automatique.png")
    browser.click(".modal-footer button[name=action_powens_choose_request_user]")
    browser.wait(".modal .o_data_row", "Marc Martin")
    browser.shoot(out / "12-choisir-l-utilisateur.png")
    browser.click_in_row(".modal .o_data_row", "Marc Martin", "button[name=action_powens_send_connection_request]")
    browser.wait(".modal .o_field_widget[name=powens_request_ids] .o_data_row", "Envoyée")
    browser.shoot(out / "13-requete-envoyee.png")

    browser.log_in(odoo, "gerant")
    browser.click(".o_menu_systray .fa-comments")
    browser.click(".o-mail-MessagingMenu-headerFilter", "Notifications")
    browser.wait(".o-mail-NotificationItem", "Banque Populaire")
    browser.shoot(out / "14-notification-du-gerant.png")
    browser.click(".o-mail-NotificationItem", "Banque Populaire")
    browser.wait(".o_form_view button[name=action_consent]")
    browser.shoot(out / "15-requete-de-connexion.png")
    browser.click(".o_form_view button[name=action_consent]")
    browser.click(".o_form_view button[name=action_open_webview]")
    browser.wait("input[name=search]")
    through_the_webview(browser, "Banque Populaire")
    browser.wait(".o_form_view .alert-success")
    browser.shoot(out / "16-banque-connectee-par-le-gerant.png")


def action_required(browser, odoo, sandbox, out):
    """The demo's connected bank, when its bank asks for a strong authentication again and
    "Synchroniser maintenant" finds out."""
    browser.log_in(odoo, "admin")
    journal = browser.rpc(
        "account.journal", "search_read", [["name", "ilike", "Crédit Agricole"]], fields=["powens_connection_id"]
    )[0]
    connection = browser.rpc("powens.connection", "read", [journal["powens_connection_id"][0]], fields=["powens_id"])[0]
    requests.post(
        f"{sandbox}/_sandbox/connections/{connection['powens_id']}/state",
        json={"state": "SCARequired", "error_message": "Votre banque demande une nouvelle authentification forte."},
        timeout=30,
    ).raise_for_status()
    browser.rpc("account.journal", "action_powens_sync", [journal["id"]])

    browser.log_in(odoo, "comptable")
    open_bank(browser, "Crédit Agricole")
    browser.wait(".o_field_widget[name=powens_state]", "Action requise")
    browser.shoot(out / "17-action-requise.png")
    browser.click("button[name=action_powens_search_connectors]")
    browser.type(".modal .o_field_widget[name=search_text] input", "Crédit Agricole")
    browser.click(".modal button[name=action_search]")
    browser.wait(".modal .o_field_widget[name=result_ids] .o_data_row")
    browser.shoot(out / "18-ma-banque-est-elle-compatible.png")


def open_cockpit(browser):
    browser.click(".o_navbar_apps_menu button")
    browser.click(".o_app[data-menu-xmlid='account.menu_finance']")
    browser.click(".o_menu_sections [data-menu-xmlid='ingeneo_powens.menu_accounting_referential']")
    browser.click(".o-dropdown-item[data-menu-xmlid='ingeneo_powens.menu_powens_cockpit']")
    browser.wait(".o_list_renderer .o_group_header")


def cockpit(browser, odoo, out):
    """ "Banques POWENS": every bank of every company of the accountant, by company; then the
    filter "Action requise" (after ``action_required``, the demo's bank asking for a strong
    authentication)."""
    browser.log_in(odoo, "comptable")
    # Every company of the accountant ticked in the company switcher.
    companies = browser.rpc("res.users", "search_read", [["login", "=", "comptable"]], fields=["company_ids"])
    browser.evaluate(f"document.cookie = 'cids={'-'.join(map(str, companies[0]['company_ids']))}; path=/'")
    browser.goto(f"{odoo}/odoo")
    browser.wait(".o_main_navbar")
    open_cockpit(browser)
    for header in range(browser.evaluate("document.querySelectorAll('.o_group_header').length")):
        browser.evaluate(f"document.querySelectorAll('.o_group_header')[{header}].click()")
        browser.settle()
    browser.wait(".o_data_row")
    browser.shoot(out / "24-banques-powens.png")
    browser.click(".o_searchview_dropdown_toggler")
    browser.click(".o_filter_menu .o_menu_item", "Action requise")
    browser.click(".o_searchview_dropdown_toggler")
    browser.click(".o_list_renderer .o_group_header")
    browser.wait(".o_data_row", "Action requise")
    browser.shoot(out / "25-banques-powens-action-requise.png")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--odoo", required=True)
    parser.add_argument("--sandbox", required=True)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "docs" / "img")
    arguments = parser.parse_args()
    arguments.out.mkdir(parents=True, exist_ok=True)
    browser = Browser()
    try:
        option_1(browser, arguments.odoo, arguments.out)
        first_connection(browser, arguments.odoo, arguments.out)
        option_2(browser, arguments.odoo, arguments.out)
        action_required(browser, arguments.odoo, arguments.sandbox, arguments.out)
        cockpit(browser, arguments.odoo, arguments.out)
    except Exception:
        failure = Path(tempfile.gettempdir()) / "ingeneo-screenshots-failure.png"
        failure.write_bytes(base64.b64decode(browser.send("Page.captureScreenshot", format="png")["data"]))
        print(f"failed on {browser.evaluate('location.href')}, page in {failure}")
        raise
    finally:
        browser.close()


if __name__ == "__main__":
    main()
