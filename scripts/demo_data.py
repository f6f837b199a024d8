"""The demo of `make run`: a French company as INGENEO's users know one, ready to be tried.

Run once, when `make run` creates its database, after configure_sandbox.py, through
`bin/odoo shell -d DB < scripts/demo_data.py` (the shell provides `env`). It builds:

- the main company as a French bakery (address in France, EUR, French chart of accounts when
  l10n_fr_account is installed), French active for every user;
- an accountant holding the right "Autoriser l'accès au paramétrage de la comptabilité" and a
  manager (an internal user without accounting rights) who holds the bank credentials;
- two banks in the company's accounting referential: one connected at the local Powens
  sandbox with six months of movements already imported, one not connected yet, to try
  Option 1 ("Connecter POWENS") or Option 2 (the connection request to the manager).

SANDBOX_URL names the sandbox `make run` serves. The logins are in DEMO_USERS and the README.
"""

import os

import requests

from odoo import Command, fields

from powens_sandbox.bank_data import counterparty

env = globals()["env"]  # provided by odoo shell
sandbox_url = os.environ.get("SANDBOX_URL", "http://127.0.0.1:8070")

COMPANY = {
    "name": "Boulangerie Martin SARL",
    "street": "12 rue des Moulins",
    "zip": "69002",
    "city": "Lyon",
    "email": "contact@boulangerie-martin.example.com",
    "phone": "+33 4 78 00 00 00",
    "company_registry": "812 345 678 00012",
}
# login -> (name, e-mail, groups); the password is the login.
DEMO_USERS = {
    "comptable": (
        "Claire Dubois",
        "claire.dubois@cabinet-dubois.example.com",
        ["base.group_user", "account.group_account_user", "ingeneo_powens.group_accounting_setup"],
    ),
    "gerant": ("Marc Martin", "marc.martin@boulangerie-martin.example.com", ["base.group_user"]),
}
CONNECTED_BANK = ("Crédit Agricole Île-de-France - compte courant", "Crédit Agricole Île-de-France")
WAITING_BANK = "Banque Populaire - compte professionnel"
HISTORY_MONTHS = 6
# Suppliers already in the company's referential, each with the counterparty name under which
# the connected bank's history (the sandbox's) debits them: their bank accounts are the IBANs
# of those counterparties, so the first retrieval recognises them.
KNOWN_SUPPLIERS = {
    "SCI Les Tilleuls": "SCI LES TILLEULS",
    "AXA France IARD": "AXA FRANCE IARD",
    "EDF": "EDF CLIENTS PARTICULIERS",
    "Orange": "ORANGE SA",
    "Free Mobile": "FREE MOBILE",
    "SIP Lyon (DGFIP)": "DGFIP",
}


def make_company_french(company):
    """A French company in euros; the French chart of accounts when the localisation is there."""
    france, euro = env.ref("base.fr"), env.ref("base.EUR")
    euro.active = True
    company.write({**COMPANY, "country_id": france.id, "currency_id": euro.id})
    french_chart = env["ir.module.module"].search([("name", "=", "l10n_fr_account"), ("state", "=", "installed")])
    if french_chart and company.chart_template != "fr":
        # The company has no accounting entry yet: the generic chart is replaced.
        env["account.chart.template"].try_loading("fr", company)
    company.partner_id.lang = "fr_FR"
    if "iap_enrich_auto_done" in company._fields:
        # partner_autocomplete (installed with account) would look the company's e-mail
        # domain up at Odoo's servers on the administrator's first login: nothing leaves.
        company.iap_enrich_auto_done = True
    return company


def activate_french():
    """French installed, with the translations of every installed module, and the default."""
    env["res.lang"]._activate_lang("fr_FR")
    env["ir.module.module"].search([("state", "=", "installed")])._update_translations(["fr_FR"])
    env["ir.default"].set("res.partner", "lang", "fr_FR")


def create_users(company):
    users = {}
    for login, (name, email, groups) in DEMO_USERS.items():
        user = (
            env["res.users"]
            .with_context(no_reset_password=True)
            .create(
                {
                    "name": name,
                    "login": login,
                    "password": login,
                    "email": email,
                    "lang": "fr_FR",
                    "tz": "Europe/Paris",
                    "company_id": company.id,
                    "company_ids": [Command.set(company.ids)],
                    "group_ids": [Command.set([env.ref(group).id for group in groups])],
                }
            )
        )
        users[login] = user
    env.ref("base.user_admin").write({"lang": "fr_FR", "tz": "Europe/Paris"})
    return users


def remove_chart_banks(company):
    """The chart of accounts comes with an unnamed bank journal ("Bank"), unused: the
    referential holds the company's real banks only."""
    env["account.journal"].search([("company_id", "=", company.id), ("type", "=", "bank")]).unlink()


def add_bank(company, name):
    """As "+ Ajouter" of the referential does: a bank journal that needs nothing but its name."""
    return env["account.journal"].with_company(company).create({"name": name, "type": "bank", "company_id": company.id})


def add_known_suppliers(company):
    """Suppliers with their bank accounts, as an accountant's referential holds them."""
    env["res.partner"].create(
        [
            {
                "name": name,
                "is_company": True,
                "supplier_rank": 1,
                "company_id": company.id,
                "bank_ids": [Command.create({"acc_number": counterparty(label, True)["account_identification"]})],
            }
            for name, label in KNOWN_SUPPLIERS.items()
        ]
    )


def connect_with_history(journal, accountant, bank_name):
    """What Option 1 leaves behind, with the webview replaced by the sandbox's control API:
    the consent, the connection and its account at Powens, the account linked, then one
    retrieval of its months of history."""
    company = journal.company_id
    powens_user = company._powens_create_user(journal)  # the bank's own Powens user
    client = powens_user._powens_client()
    connector = client.list_connectors(search=bank_name)[0]
    response = requests.post(
        f"{sandbox_url}/_sandbox/users/{powens_user.powens_id}/connections",
        json={
            "connector_uuid": connector["uuid"],
            "login": "martin",
            "password": "demo",
            "accounts": 1,
            "months": HISTORY_MONTHS,
        },
        timeout=30,
    )
    response.raise_for_status()
    powens_id = response.json()["id"]
    connection = env["powens.connection"]._sync_from_powens(
        company,
        client.get_connection(powens_id, expand=("connector", "sources")),
        connected_by=accountant,
        user=powens_user,
    )
    env["powens.account"]._sync_from_powens(connection, client.list_accounts(powens_id))
    account = connection.account_ids[:1]
    consent_text = env["powens.consent"].with_context(lang="fr_FR")._text_for(company)
    env["powens.consent"].create(
        {
            "company_id": company.id,
            "journal_id": journal.id,
            "user_id": accountant.id,
            "consented_at": fields.Datetime.now(),
            "consent_text": consent_text,
            "connection_id": connection.id,
        }
    )
    journal.bank_acc_number = account.iban
    journal.with_user(accountant).with_context(lang="fr_FR")._powens_link_account(account)
    env["powens.retrieval"].with_context(lang="fr_FR")._retrieve(journal, "manual")
    return journal


company = make_company_french(env.ref("base.main_company"))
activate_french()
users = create_users(company)
remove_chart_banks(company)
add_known_suppliers(company)
connected = connect_with_history(add_bank(company, CONNECTED_BANK[0]), users["comptable"], CONNECTED_BANK[1])
add_bank(company, WAITING_BANK)
env.cr.commit()
lines = env["account.bank.statement.line"].search_count([("journal_id", "=", connected.id)])
print(
    f"Demo company {company.name}: {connected.name} connected with {lines} movements, "
    f"{WAITING_BANK} to connect; users {', '.join(DEMO_USERS)}"
)
