"""A scripted person going through the sandbox webview over HTTP, without JavaScript.

Tests of the sandbox and of the Odoo add-on use it to follow the real pages: forms are read
from the HTML and posted as a browser would, redirects are inspected rather than followed, so
a test sees exactly where the webview sends the browser back.
"""

from html.parser import HTMLParser
from urllib.parse import parse_qsl, urljoin, urlsplit

import requests

TEST_BANK_NAME = "Banque de test (sandbox)"


class FormParser(HTMLParser):
    """Collects each form's action, hidden fields, submit buttons and checkboxes."""

    def __init__(self):
        super().__init__()
        self.forms = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append({"action": attrs.get("action"), "hidden": {}, "buttons": [], "checkboxes": []})
        elif not self.forms:
            return
        elif tag == "input" and attrs.get("type") == "hidden":
            self.forms[-1]["hidden"][attrs["name"]] = attrs.get("value", "")
        elif tag == "input" and attrs.get("type") == "checkbox":
            self.forms[-1]["checkboxes"].append(attrs)
        elif tag == "button":
            self.forms[-1]["buttons"].append((attrs.get("name"), attrs.get("value")))


class WebviewDriver:
    """Opens webview pages and presses their buttons, remembering the last page."""

    def __init__(self, base_url):
        self.base_url = base_url
        self.page = None

    def open(self, path_or_url, **params):
        response = requests.get(
            urljoin(self.base_url, path_or_url), params=params or None, allow_redirects=False, timeout=30
        )
        return self._remember(response)

    def press(self, button_value, **fields):
        """Submit the form holding the button whose value is ``button_value``."""
        form = next(item for item in self.forms() if any(value == button_value for _name, value in item["buttons"]))
        name = next(name for name, value in form["buttons"] if value == button_value)
        data = dict(form["hidden"], **fields)
        data[name] = button_value
        response = requests.post(urljoin(self.base_url, form["action"]), data=data, allow_redirects=False, timeout=30)
        return self._remember(response)

    def forms(self):
        parser = FormParser()
        parser.feed(self.page.text)
        return parser.forms

    def checkboxes(self):
        return [box for form in self.forms() for box in form["checkboxes"]]

    def connect(self, url, *, bank=TEST_BANK_NAME, login="alice", password="secret", accounts=None):
        """Go through a connect URL as its user would: pick ``bank`` (unless the URL chose
        it), give the credentials, tick ``accounts`` (indexes; all by default), consent.
        Return the URL the webview sends the browser back to."""
        page = self.open(url)
        if 'name="password"' not in page.text:
            self.press(self._connector_button(bank))
        self.press("submit", login=login, password=password, accept_terms="yes")
        if self.page.status_code == 200 and self.checkboxes():
            ticked = range(len(self.checkboxes())) if accounts is None else accounts
            self.press("submit", account=[str(index) for index in ticked])
        return self.redirect_location()

    def redirect_location(self):
        if self.page.status_code not in (302, 303):
            raise AssertionError(f"the webview did not redirect (HTTP {self.page.status_code})")
        return self.page.headers["Location"]

    def _connector_button(self, bank_name):
        connectors = requests.get(self.base_url + "/2.0/connectors", timeout=30).json()["connectors"]
        return next(item["uuid"] for item in connectors if item["name"] == bank_name)

    def _remember(self, response):
        self.page = response
        return response


def query_of(url):
    """The query parameters of ``url`` as a dict (the callback's parameters)."""
    return dict(parse_qsl(urlsplit(url).query))
