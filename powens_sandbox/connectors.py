"""Catalogue of simulated banks: realistic French institutions plus simulator-only test banks.

Ids are fixed and UUIDs are uuid5 of the slug, so they are stable across runs and machines.
"""

import dataclasses
import unicodedata
import uuid

UUID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "powens-sandbox/connectors")

LOGIN_FIELD = {"name": "login", "type": "text", "label": "Identifiant", "regex": None, "values": []}
PASSWORD_FIELD = {"name": "password", "type": "password", "label": "Mot de passe", "regex": None, "values": []}
WEBSITE_FIELD = {
    "name": "website",
    "type": "list",
    "label": "Type de compte",
    "regex": None,
    "values": [{"label": "Particuliers", "value": "par"}, {"label": "Professionnels", "value": "pro"}],
}


@dataclasses.dataclass(frozen=True)
class Connector:
    id: int
    slug: str
    name: str
    bank_code: str
    bic: str
    color: str
    auth_mechanism: str = "credentials"
    capabilities: tuple = ("bank",)
    account_usages: tuple = ("PRIV",)
    with_website_field: bool = False
    is_test: bool = False

    @property
    def uuid(self) -> str:
        return str(uuid.uuid5(UUID_NAMESPACE, self.slug))

    @property
    def fields(self) -> list[dict]:
        fields = [WEBSITE_FIELD] if self.with_website_field else []
        fields += [LOGIN_FIELD, PASSWORD_FIELD]
        return [
            dict(field, required=True, auth_mechanisms=[self.auth_mechanism], connector_sources=["openapi"])
            for field in fields
        ]


PRO = ("PRIV", "ORGA")
CATALOGUE = (
    Connector(
        3, "bnp-paribas", "BNP Paribas", "30004", "BNPAFRPP", "00965e", account_usages=PRO, with_website_field=True
    ),
    Connector(
        4,
        "societe-generale",
        "Société Générale",
        "30003",
        "SOGEFRPP",
        "e9041e",
        account_usages=PRO,
        with_website_field=True,
    ),
    Connector(5, "lcl", "LCL", "30002", "CRLYFRPP", "1c3f94", account_usages=PRO),
    Connector(6, "credit-mutuel", "Crédit Mutuel", "10278", "CMCIFR2A", "0060ae", account_usages=PRO),
    Connector(7, "cic", "CIC", "30066", "CMCIFRPP", "00529b", account_usages=PRO),
    Connector(8, "la-banque-postale", "La Banque Postale", "20041", "PSSTFRPPPAR", "003da5", account_usages=PRO),
    Connector(9, "caisse-epargne", "Caisse d'Épargne", "17515", "CEPAFRPP751", "d6001c", account_usages=PRO),
    Connector(10, "banque-populaire", "Banque Populaire", "10207", "CCBPFRPPMTG", "0f4a96", account_usages=PRO),
    Connector(11, "boursorama", "Boursorama Banque", "40618", "BOUSFRPPXXX", "d2006e"),
    Connector(12, "qonto", "Qonto", "16958", "QNTOFRP1XXX", "1d1d1b", "webauth", ("bank", "transfer"), ("ORGA",)),
    Connector(13, "shine", "Shine", "17418", "SHINFRP1XXX", "2653f5", "webauth", ("bank", "transfer"), ("ORGA",)),
    Connector(14, "hsbc-france", "HSBC France", "30056", "CCFRFRPPXXX", "db0011", account_usages=PRO),
    Connector(15, "credit-du-nord", "Crédit du Nord", "30076", "NORDFRPPXXX", "00a19a", account_usages=PRO),
    Connector(16, "hello-bank", "Hello bank!", "30004", "BNPAFRPPXXX", "00afaa"),
    Connector(17, "fortuneo", "Fortuneo", "14518", "FTNOFRP1XXX", "75b843"),
    Connector(18, "ing", "ING", "30438", "INGBFRPPXXX", "ff6200"),
    Connector(19, "monabanq", "Monabanq", "14690", "MONAFRP1XXX", "e4007d"),
    Connector(20, "nickel", "Nickel", "16598", "NICKFRP1XXX", "000000"),
    Connector(21, "axa-banque", "AXA Banque", "12548", "AXABFRPPXXX", "00008f"),
    Connector(22, "credit-cooperatif", "Crédit Coopératif", "42559", "CCOPFRPPXXX", "e2001a", account_usages=PRO),
    Connector(23, "bred", "BRED Banque Populaire", "10107", "BREDFRPPXXX", "00387b", account_usages=PRO),
    Connector(
        30, "ca-ile-de-france", "Crédit Agricole Île-de-France", "18206", "AGRIFRPP882", "006a4e", account_usages=PRO
    ),
    Connector(
        31, "ca-alpes-provence", "Crédit Agricole Alpes Provence", "11306", "AGRIFRPP813", "006a4e", account_usages=PRO
    ),
    Connector(
        32, "ca-nord-de-france", "Crédit Agricole Nord de France", "16706", "AGRIFRPP867", "006a4e", account_usages=PRO
    ),
    Connector(33, "ca-centre-est", "Crédit Agricole Centre-Est", "17806", "AGRIFRPP878", "006a4e", account_usages=PRO),
    Connector(34, "ca-languedoc", "Crédit Agricole du Languedoc", "13506", "AGRIFRPP835", "006a4e", account_usages=PRO),
    Connector(35, "ca-aquitaine", "Crédit Agricole d'Aquitaine", "13306", "AGRIFRPP833", "006a4e", account_usages=PRO),
    Connector(
        40,
        "connecteur-de-test",
        "Connecteur de test",
        "99998",
        "TESTFRP1XXX",
        "8a8a8a",
        capabilities=("bank", "document", "profile"),
        account_usages=PRO,
        with_website_field=True,
        is_test=True,
    ),
    Connector(
        59,
        "banque-de-test",
        "Banque de test (sandbox)",
        "99999",
        "SBOXFRP1XXX",
        "5b3cc4",
        capabilities=("bank",),
        account_usages=PRO,
        is_test=True,
    ),
)

# Simulator-only passwords of the test banks and the connection state each one produces.
TEST_PASSWORD_OUTCOMES = {
    "wrongpass": "wrongpass",
    "sca": "otp",
    "decoupled": "decoupled",
    "actionneeded": "actionNeeded",
    "passwordexpired": "passwordExpired",
    "unavailable": "websiteUnavailable",
}
TEST_OTP_CODE = "123456"


def normalize(text: str) -> str:
    """Case- and accent-insensitive form used by the search box and the `search` parameter."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def search(term: str | None = None) -> list[Connector]:
    needle = normalize(term or "")
    return [connector for connector in CATALOGUE if needle in normalize(connector.name)]


def find(key) -> Connector | None:
    """Looks a connector up by UUID or by (deprecated) integer id."""
    text = str(key)
    for connector in CATALOGUE:
        if connector.uuid == text or str(connector.id) == text:
            return connector
    return None


def find_by_name(name: str) -> Connector | None:
    """Looks a connector up by its name, ignoring case and accents (for names people type in test settings)."""
    wanted = normalize(name)
    return next((connector for connector in CATALOGUE if normalize(connector.name) == wanted), None)


def credentials_outcome(connector: Connector, password: str) -> str:
    """'ok', 'otp', 'decoupled' or an error state; only test banks react to magic passwords."""
    if not connector.is_test:
        return "ok"
    return TEST_PASSWORD_OUTCOMES.get((password or "").strip().lower(), "ok")
