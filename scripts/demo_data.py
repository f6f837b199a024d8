"""The demo of `make run`: a French company as INGENEO's users know one, ready to be tried.

Run once, when `make run` creates its database, after configure_sandbox.py, through
`bin/odoo shell -d DB < scripts/demo_data.py` (the shell provides `env`). It builds:

- the main company as a French bakery (address in France, EUR, French chart of accounts when
  l10n_fr_account is installed), French active for every user;
- an accountant holding the right "Autoriser l'accès au paramétrage de la comptabilité" and a
  manager (an internal user without accounting rights) who holds the bank credentials;
- two banks in the company's accounting referential: one connected at the local Powens
  sandbox with six months of movements already imported, one not connected yet, to try
  Option 1 ("Connecter POWENS") or Option 2 (the connection request to the manager);
- the accounting firm's other clients, for the cockpit "Banques POWENS": a garage with a bank
  in each state (connected with movements, waiting for its first movements, strong
  authentication required, consent ending soon, in error, not connected with a connection
  request pending, not connected) and a florist with one connected bank. The accountant works
  in the three companies and receives the weekly digest. Each state is reached as in real
  life: the sandbox's control API plays the bank and Powens, the add-on's own paths
  (retrieval, connection request) record it.

SANDBOX_URL names the sandbox `make run` serves. The logins are in DEMO_USERS and the README.
"""

import os
from datetime import timedelta

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

# The firm's other clients (the cockpit's companies), each with its manager; the password is the login.
GARAGE = {
    "name": "Garage Lefèvre SAS",
    "street": "45 avenue Roger Salengro",
    "zip": "69100",
    "city": "Villeurbanne",
    "email": "contact@garage-lefevre.example.com",
    "company_registry": "823 456 789 00015",
}
GARAGE_MANAGER = ("lefevre", "Sophie Lefèvre", "sophie.lefevre@garage-lefevre.example.com")
FLORIST = {
    "name": "Fleurs de Saône SARL",
    "street": "3 quai Saint-Antoine",
    "zip": "69002",
    "city": "Lyon",
    "email": "contact@fleurs-de-saone.example.com",
    "company_registry": "834 567 890 00018",
}
# The garage's banks, one per state of the cockpit: (bank, Powens' bank it is connected to).
GARAGE_BANKS = {
    "connected": ("BNP Paribas - compte courant", "BNP Paribas"),
    "waiting": ("Société Générale - compte professionnel", "Société Générale"),
    "action_required": ("LCL - compte courant", "LCL"),
    "consent_ending": ("Caisse d'Épargne - compte courant", "Caisse d'Épargne"),
    "error": ("Crédit Mutuel - compte professionnel", "Crédit Mutuel"),
    "request_pending": ("La Banque Postale - compte courant", None),
    "not_connected": ("Boursorama Banque - compte pro", None),
}
FLORIST_BANK = ("CIC - compte courant", "CIC")
# The garage's and the florist's banks bring one month of history: the demo builds in about a minute.
CLIENT_HISTORY_MONTHS = 1
CONSENT_ENDING_IN_DAYS = 10
# A connection whose bank delivers its history three days later (the sandbox's clock), as
# banks do within 48 to 72 hours: the bank waits for its first movements meanwhile.
FIRST_SYNC_DELAY_SECONDS = 3 * 24 * 3600


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


def create_user(company, login, name, email, groups):
    """A French user of ``company``; the password is the login."""
    return (
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


def create_users(company):
    users = {}
    for login, (name, email, groups) in DEMO_USERS.items():
        user = create_user(company, login, name, email, groups)
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


def sandbox_control(path, body):
    """A call of the sandbox's control API (the bank's and Powens' side of the demo)."""
    response = requests.post(f"{sandbox_url}/_sandbox/{path}", json=body, timeout=30)
    response.raise_for_status()
    return response.json()


def connect_with_history(journal, accountant, bank_name, months=HISTORY_MONTHS, retrieve=True):
    """What Option 1 leaves behind, with the webview replaced by the sandbox's control API:
    the consent, the connection and its account at Powens, the account linked, then one
    retrieval of its months of history (unless not ``retrieve``)."""
    company = journal.company_id
    powens_user = company._powens_create_user(journal)  # the bank's own Powens user
    client = powens_user._powens_client()
    connector = client.list_connectors(search=bank_name)[0]
    powens_id = sandbox_control(
        f"users/{powens_user.powens_id}/connections",
        {"connector_uuid": connector["uuid"], "login": "martin", "password": "demo", "accounts": 1, "months": months},
    )["id"]
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
    if retrieve:
        retrieve_as_scheduled(journal)
    return journal


def retrieve_as_scheduled(journal):
    """One retrieval of the bank, as the scheduled job runs it (in the bank's company)."""
    env["powens.retrieval"].with_company(journal.company_id).with_context(lang="fr_FR")._retrieve(journal, "cron")


def add_client_company(identity):
    """Another client company of the firm: French, in euros, on the database's Powens contract
    (the sandbox's), with no bank yet. The generic chart of accounts: the French one would add
    some 15 s to the build."""
    # Created without its country: a country on create installs its localisation.
    company = env["res.company"].create({"name": identity["name"]})
    company.write({**identity, "country_id": env.ref("base.fr").id, "currency_id": env.ref("base.EUR").id})
    env["account.chart.template"].try_loading("generic_coa", company, install_demo=False)
    company.partner_id.lang = "fr_FR"
    remove_chart_banks(company)
    return company


def join_companies(users, companies):
    """The firm's accountant works in every client company and reads the weekly digest."""
    users["comptable"].write({"company_ids": [Command.link(company.id) for company in companies]})
    users["comptable"].powens_weekly_digest = True


def build_garage_banks(company, accountant):
    """The garage's banks, one in each state of the cockpit, each reached through its real path."""
    banks = {state: add_bank(company, name) for state, (name, _powens_bank) in GARAGE_BANKS.items()}
    connect_with_history(banks["connected"], accountant, GARAGE_BANKS["connected"][1], CLIENT_HISTORY_MONTHS)
    # The bank delivers its history three days after the connection.
    sandbox_control("settings", {"first_sync_delay": FIRST_SYNC_DELAY_SECONDS})
    connect_with_history(banks["waiting"], accountant, GARAGE_BANKS["waiting"][1], CLIENT_HISTORY_MONTHS)
    sandbox_control("settings", {"first_sync_delay": 0})
    retrieve_as_scheduled(banks["waiting"])
    # The bank asks for a strong authentication, Powens cannot read it, the consent ends soon:
    # what the next scheduled retrieval finds, with the movements Powens already has.
    for state, powens_state in (("action_required", "SCARequired"), ("error", "notSupported")):
        journal = connect_with_history(
            banks[state], accountant, GARAGE_BANKS[state][1], CLIENT_HISTORY_MONTHS, retrieve=False
        )
        sandbox_control(f"connections/{journal.powens_connection_id.powens_id}/state", {"state": powens_state})
        retrieve_as_scheduled(journal)
    journal = connect_with_history(
        banks["consent_ending"], accountant, GARAGE_BANKS["consent_ending"][1], CLIENT_HISTORY_MONTHS, retrieve=False
    )
    consent_end = fields.Datetime.now() + timedelta(days=CONSENT_ENDING_IN_DAYS)
    sandbox_control(
        f"connections/{journal.powens_connection_id.powens_id}/consent",
        {"access_expire": fields.Datetime.to_string(consent_end)},
    )
    retrieve_as_scheduled(journal)
    manager = create_user(company, *GARAGE_MANAGER, ["base.group_user"])
    request_bank = banks["request_pending"].with_user(accountant).with_company(company).with_context(lang="fr_FR")
    env["powens.connection.request"].with_user(accountant).with_company(company)._send(request_bank, manager)
    return banks


company = make_company_french(env.ref("base.main_company"))
activate_french()
users = create_users(company)
remove_chart_banks(company)
add_known_suppliers(company)
connected = connect_with_history(add_bank(company, CONNECTED_BANK[0]), users["comptable"], CONNECTED_BANK[1])
add_bank(company, WAITING_BANK)
garage = add_client_company(GARAGE)
florist = add_client_company(FLORIST)
join_companies(users, garage | florist)
garage_banks = build_garage_banks(garage, users["comptable"])
connect_with_history(add_bank(florist, FLORIST_BANK[0]), users["comptable"], FLORIST_BANK[1], CLIENT_HISTORY_MONTHS)
env.cr.commit()
lines = env["account.bank.statement.line"].search_count([("journal_id", "=", connected.id)])
print(
    f"Demo company {company.name}: {connected.name} connected with {lines} movements, "
    f"{WAITING_BANK} to connect; {garage.name}: "
    + ", ".join(f"{bank.name} {bank.powens_state}" for bank in garage_banks.values())
    + f"; {florist.name}; users {', '.join(DEMO_USERS)}, {GARAGE_MANAGER[0]}"
)
