"""Webview autopilot for browser tests: each step page fills in and submits its own forms, like a person would.

Odoo's Chromium tours cannot run steps on another origin, so a tour sent to the webview needs the pages to take
the browser back to the application by themselves. The script only types into the real fields and clicks the
real buttons, so the server runs the same form handling, checks, consent and redirect as for a person.
"""

import dataclasses
import json
from html import escape

from . import connectors

LOGIN = "autopilot"
DEFAULT_PASSWORD = "autopilot"
DEFAULT_BANK = connectors.find_by_name("Banque de test (sandbox)")
BANNER = "Autopilot (tests)"
STOPPED_NOTE = " — stopped: this page shows an error"
BANNER_STYLE = "background:#1d2433;color:#fff;font-weight:600;padding:.4rem 1rem;text-align:center"

# One function per webview step (the step names of webview.Flow); `pilot` says which one and what to type.
# Nothing is logged: browser tests fail on console errors.
SCRIPT = """(function (pilot) {
  "use strict";
  function field(name) { return document.querySelector('[name="' + name + '"]'); }
  function press(value) {
    var button = document.querySelector('button[value="' + value + '"]');
    if (button) { button.click(); }
  }
  var steps = {
    picker: function () { press(pilot.bank); },
    credentials: function () {
      var login = field("login"), terms = field("accept_terms");
      if (!login.value) { login.value = pilot.login; }
      field("password").value = pilot.password;
      if (terms) { terms.checked = true; }
      press("submit");
    },
    otp: function () { field("otp").value = pilot.otp; press("submit"); },
    decoupled: function () { press("resume"); },
    accounts: function () {
      document.querySelectorAll('input[name="account"]:not(:disabled)').forEach(function (box) { box.checked = true; });
      press("submit");
    },
    another: function () { press("finish"); },
    manage: function () { press("close"); }
  };
  steps[pilot.step]();
}(%s));"""


@dataclasses.dataclass(frozen=True)
class Autopilot:
    enabled: bool = False
    password: str = DEFAULT_PASSWORD
    bank: connectors.Connector = DEFAULT_BANK

    def describe(self) -> dict:
        return {"enabled": self.enabled, "password": self.password, "bank": self.bank.uuid, "bank_name": self.bank.name}

    def steer(self, page: str, step: str, stopped: bool) -> str:
        """The page unchanged when off; else with the banner and, unless `stopped` (the page shows an error, so
        playing it again would loop), the script that plays `step`."""
        if not self.enabled:
            return page
        banner_text = BANNER + (STOPPED_NOTE if stopped else "")
        banner = f'<div role="status" style="{BANNER_STYLE}">{escape(banner_text)}</div>'
        script = "" if stopped else f"<script>{SCRIPT % self.script_settings(step)}</script>"
        return page.replace("<body>", "<body>" + banner, 1).replace("</body>", script + "</body>", 1)

    def script_settings(self, step: str) -> str:
        """JSON for the script; '<' is escaped so no value (say a password) can close the script element."""
        settings = {
            "step": step,
            "bank": self.bank.uuid,
            "login": LOGIN,
            "password": self.password,
            "otp": connectors.TEST_OTP_CODE,
        }
        return json.dumps(settings).replace("<", "\\u003c")
