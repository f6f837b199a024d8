"""Shared set-up of the add-on's tests: a real Powens sandbox process over HTTP, a company
configured for it, a bank of its referential and a user holding the accounting-setup right.
The sandbox is a package of the project: pytest.ini and bin/odoo put the project on the import
path."""

import atexit

from odoo import fields
from odoo.tests import new_test_user

from powens_sandbox import autopilot
from powens_sandbox.bank_data import discover_accounts
from powens_sandbox.config import SandboxConfig
from powens_sandbox.driver import TEST_BANK_NAME, WebviewDriver, query_of
from powens_sandbox.launcher import start_sandbox
from powens_sandbox.webview import DISCOVERED_ACCOUNTS

__all__ = [
    "TEST_BANK_NAME",
    "PowensSandboxMixin",
    "WebviewDriver",
    "autopilot_iban",
    "new_user",
    "query_of",
    "shared_sandbox",
    "transactions_of",
]


def new_user(env, **values):
    """A user as Odoo's ``new_test_user`` makes it, without the sign-up invitation Odoo renders
    and queues for every new user: a third of a user's creation, for an e-mail no test reads."""
    return new_test_user(env, context={"no_reset_password": True}, **values)


def transactions_of(client, account_id=None, **filters):
    """Every transaction Powens lists for the account, across its pages."""
    for page in client.iter_transaction_pages(account_id, **filters):
        yield from page


def autopilot_iban():
    """The IBAN of the first account the sandbox's autopilot connects (its banks are
    deterministic): a bank with this IBAN is linked at once, as a real one would be."""
    specs = discover_accounts(SandboxConfig.seed, autopilot.DEFAULT_BANK, autopilot.LOGIN, DISCOVERED_ACCOUNTS)
    return specs[0].iban


_SANDBOXES = {}


def shared_sandbox(*args):
    """The sandbox this test process runs with the options ``args``, back to its start-up state
    (``/_sandbox/reset``): one process for every class asking for the same options, since
    starting one costs more than most cases; stopped when the tests end. Detached: Odoo ends
    each test class by terminating the children the class leaves."""
    sandbox = _SANDBOXES.get(args)
    if sandbox is None or not sandbox.running():
        sandbox = _SANDBOXES[args] = start_sandbox(*args, detached=True)
        atexit.register(sandbox.stop)
    else:
        sandbox.reset()
    return sandbox


class PowensSandboxMixin:
    """A sandbox in its start-up state for each test class; the company's Powens settings point
    at it. Each case starts from the sandbox as the class's set-up left it, as it starts from
    the class's database: what a case adds at Powens is not imported again by the next."""

    sandbox_args = ()

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sandbox = shared_sandbox(*cls.sandbox_args)
        cls.sandbox_state_kept = False
        cls.company = cls.env.company
        cls.configure_powens(cls.company)
        cls.bank = cls.env["account.journal"].create(
            {"name": "Banque test", "type": "bank", "company_id": cls.company.id}
        )
        cls.setup_user = new_user(
            cls.env,
            login="powens_setup",
            password="powens_setup",
            groups="base.group_user,account.group_account_user,ingeneo_powens.group_accounting_setup",
            company_id=cls.company.id,
            company_ids=[cls.company.id],
        )
        cls.accountant = new_user(
            cls.env,
            login="powens_accountant",
            password="powens_accountant",
            groups="base.group_user,account.group_account_user",
            company_id=cls.company.id,
            company_ids=[cls.company.id],
        )

    def setUp(self):
        super().setUp()
        if type(self).sandbox_state_kept:
            self.sandbox.restore()
        else:  # the first case: the class's whole set-up is done
            self.sandbox.snapshot()
            type(self).sandbox_state_kept = True

    @classmethod
    def configure_powens(cls, company):
        company.write(
            {
                "powens_domain": "sandbox",
                "powens_client_id": cls.sandbox.client_id,
                "powens_client_secret": cls.sandbox.client_secret,
                "powens_webhook_secret": cls.sandbox.webhook_secret,
            }
        )
        company.write({"powens_api_url": cls.sandbox.api_url, "powens_webview_url": cls.sandbox.webview_url})

    @classmethod
    def configure_database_contract(cls):
        """Set the database's contract for the sandbox, and let ``cls.company`` use it (its
        own contract erased): the contract a firm's companies share."""
        contract = cls.env["powens.contract"]._powens_database()
        contract.write(
            {
                "powens_domain": "sandbox",
                "powens_client_id": cls.sandbox.client_id,
                "powens_client_secret": cls.sandbox.client_secret,
                "powens_webhook_secret": cls.sandbox.webhook_secret,
            }
        )
        contract.write({"powens_api_url": cls.sandbox.api_url, "powens_webview_url": cls.sandbox.webview_url})
        cls.company.sudo().action_powens_use_database_contract()
        return contract

    @classmethod
    def connect_at_powens(cls, journal, accounts=2, months=0):
        """Give ``journal`` a Powens connection with ``accounts`` unlinked accounts, held by the
        bank's own Powens user, as the callback would record it, and the consent that preceded it.
        Its history is ``months`` months before today's movements: Odoo books about 70 statement
        lines a second here, so a case asks for the history it needs."""
        company = journal.company_id
        powens_user = company._powens_create_user(journal)  # the bank's own Powens user
        client = powens_user._powens_client()
        test_bank = client.list_connectors(search=TEST_BANK_NAME)[0]
        created = cls.sandbox.control(
            "POST",
            f"/_sandbox/users/{powens_user.powens_id}/connections",
            {
                "connector_uuid": test_bank["uuid"],
                "login": "alice",
                "password": "secret",
                "accounts": accounts,
                "months": months,
            },
        )
        connection = cls.env["powens.connection"]._sync_from_powens(
            company, client.get_connection(created["id"], expand=("connector", "sources")), user=powens_user
        )
        cls.env["powens.account"]._sync_from_powens(connection, client.list_accounts(created["id"]))
        journal.powens_connection_id = connection
        cls.env["powens.consent"].create(
            {
                "company_id": company.id,
                "journal_id": journal.id,
                "user_id": cls.env.ref("base.user_admin").id,
                "consented_at": fields.Datetime.now(),
                "connection_id": connection.id,
            }
        )
        return connection

    def start_webview(self, journal, flow="connect", user=None):
        """What the consent dialog does for ``user``: record the consent and return the
        webview URL it sends the browser to."""
        user = user or self.setup_user
        action = journal.with_user(user)._powens_consent_action(flow)
        wizard = (
            self.env["powens.consent.wizard"]
            .with_user(user)
            .with_context(**action["context"])
            .create({"accepted": True})
        )
        return wizard.action_continue()["url"]
