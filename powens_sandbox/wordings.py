"""French bank-statement vocabulary: merchants, creditors and customers the simulated banks write about."""

# (merchant as printed by the card network, city, min cents, max cents)
CARD_MERCHANTS = (
    ("CARREFOUR", "ÉVRY", 1500, 14000),
    ("MONOPRIX", "PARIS 11", 800, 6500),
    ("BOULANGERIE PAUL", "LYON", 250, 1800),
    ("SNCF CONNECT", "PARIS", 2500, 12000),
    ("TOTALENERGIES", "NANTERRE", 3000, 9000),
    ("AMAZON EU SARL", "LUXEMBOURG", 999, 8999),
    ("FNAC", "BORDEAUX", 1500, 25000),
    ("LEROY MERLIN", "VILLENEUVE-D'ASCQ", 1200, 18000),
    ("PHARMACIE DU MARCHÉ", "TOULOUSE", 450, 4500),
    ("LE BISTROT GOURMAND", "MARSEILLE", 1800, 9500),
    ("DÉCATHLON", "LILLE", 990, 12000),
    ("INTERMARCHÉ", "ÉPINAL", 1200, 11000),
    ("LA POSTE", "NANTES", 180, 2500),
)

# (merchant, city, currency) for payments abroad
FOREIGN_MERCHANTS = (
    ("STARBUCKS", "LONDON", "GBP"),
    ("APPLE.COM/BILL", "CORK", "USD"),
    ("MIGROS", "GENÈVE", "CHF"),
    ("UBER *TRIP", "SAN FRANCISCO", "USD"),
    ("PRET A MANGER", "LONDON", "GBP"),
)

# (creditor, statement reference, day of month, min cents, max cents)
PERSONAL_DIRECT_DEBITS = (
    ("SCI LES TILLEULS", "LOYER", 5, 95000, 95000),
    ("AXA FRANCE IARD", "ASSURANCE HABITATION", 8, 2350, 2350),
    ("EDF CLIENTS PARTICULIERS", "ÉCHÉANCIER", 10, 6500, 11500),
    ("FREE MOBILE", "FORFAIT", 12, 1999, 1999),
    ("ORANGE SA", "LIVEBOX", 15, 3999, 4299),
    ("DGFIP", "IMPÔT PRÉLÈVEMENT À LA SOURCE", 16, 12000, 12000),
)
BUSINESS_DIRECT_DEBITS = (
    ("URSSAF ÎLE-DE-FRANCE", "COTISATIONS", 20, 38000, 52000),
    ("OVH SAS", "HÉBERGEMENT", 3, 2399, 4799),
    ("ORANGE BUSINESS", "FIBRE PRO", 15, 5900, 5900),
    ("DGFIP", "TVA", 24, 80000, 240000),
)

CUSTOMERS = ("DUPONT", "MARTIN SARL", "LEFEBVRE ET FILS", "BERNARD CONSEIL", "ATELIER PETIT", "GARCIA & ASSOCIÉS")
SUPPLIERS = ("BUREAU VALLÉE", "MANUTAN", "LYRECO FRANCE", "IMPRIMERIE ROUSSEAU")
EMPLOYER = "INGENEO SAS"
ATM_CITIES = ("PARIS", "LYON", "RENNES", "STRASBOURG", "NICE")

MONTH_NAMES = (
    "JANVIER",
    "FÉVRIER",
    "MARS",
    "AVRIL",
    "MAI",
    "JUIN",
    "JUILLET",
    "AOÛT",
    "SEPTEMBRE",
    "OCTOBRE",
    "NOVEMBRE",
    "DÉCEMBRE",
)
