"""Deterministic bank simulation: which accounts a login owns and what happens on them each day.

Everything derives from string seeds (seed, IBAN, day), so the same bank tells the same story on every
run, and a day's operations are identical whether fetched by the first sync or by a later one.
"""

import calendar
import dataclasses
import datetime as dt
import random
from decimal import Decimal

from . import wordings
from .connectors import Connector
from .currencies import EUR_PER_UNIT
from .iban import french_iban

CENT = Decimal("0.01")
COUNTERPARTY_BANK_CODES = ("30004", "30003", "30002", "10278", "20041", "17515")


@dataclasses.dataclass(frozen=True)
class AccountSpec:
    """An account as the bank describes it on discovery."""

    kind: str
    type: str
    name: str
    original_name: str
    usage: str
    iban: str | None
    bic: str
    number: str
    webid: str
    card_number: str | None
    target_balance: Decimal
    parent_index: int | None


# kind -> (Powens type, display name, bank name, usage, balance range in cents)
ACCOUNT_KINDS = (
    ("checking", "checking", "Compte courant", "COMPTE CHEQUES", "PRIV", (80000, 600000)),
    ("savings", "savings", "Livret A", "LIVRET A", "PRIV", (200000, 2290000)),
    ("card", "card", "Carte Visa Premier", "CB VISA PREMIER DIFFERE", "PRIV", (-80000, -5000)),
    ("business", "checking", "Compte courant professionnel", "CPTE COURANT PRO", "ORGA", (500000, 4000000)),
    ("term", "deposit", "Compte à terme", "CAT 24 MOIS", "PRIV", (1000000, 5000000)),
)


def cents(rng: random.Random, low: int, high: int) -> Decimal:
    return (Decimal(rng.randint(low, high)) * CENT).quantize(CENT)


def digits(rng: random.Random, count: int) -> str:
    return "".join(str(rng.randint(0, 9)) for _ in range(count))


def discover_accounts(seed: int, connector: Connector, login: str, count: int) -> list[AccountSpec]:
    """The accounts the bank shows for this login; the card account hangs off the first checking account."""
    rng = random.Random(f"{seed}|{connector.slug}|{login}|accounts")
    branch = digits(rng, 5)
    card_number = "XXXXXXXXXXXX" + digits(rng, 4)
    specs = []
    for index in range(count):
        kind, powens_type, name, original_name, usage, (low, high) = ACCOUNT_KINDS[index % len(ACCOUNT_KINDS)]
        account_number = digits(rng, 11)
        suffix = f" {index // len(ACCOUNT_KINDS) + 1}" if index >= len(ACCOUNT_KINDS) else ""
        is_card = kind == "card"
        iban = None if is_card else french_iban(connector.bank_code, branch, account_number)
        specs.append(
            AccountSpec(
                kind=kind,
                type=powens_type,
                name=name + suffix,
                original_name=original_name + suffix,
                usage=usage,
                iban=iban,
                bic=connector.bic,
                number=card_number if is_card else f"****{account_number[-4:]}",
                webid=f"{connector.slug}-{account_number}",
                card_number=card_number,
                target_balance=cents(rng, low, high),
                parent_index=0 if is_card else None,
            )
        )
    return specs


def counterparty(label: str, is_debit: bool, with_iban: bool = True) -> dict:
    rng = random.Random(f"counterparty|{label}")
    iban = french_iban(rng.choice(COUNTERPARTY_BANK_CODES), digits(rng, 5), digits(rng, 11)) if with_iban else None
    return {
        "label": label,
        "account_scheme_name": "iban" if with_iban else None,
        "account_identification": iban,
        "type": "creditor" if is_debit else "debtor",
    }


def card_counterparty(merchant: str, card_number: str) -> dict:
    """The merchant of a card payment, identified by the card's PAN (scheme `cpan`, documented in
    AccountSchemeName): an identification that is not a bank account."""
    return {"label": merchant, "account_scheme_name": "cpan", "account_identification": card_number, "type": "creditor"}


def operation(
    day: dt.date,
    value: Decimal,
    op_type: str,
    original: str,
    simplified: str,
    party: dict | None,
    booking_delay_days: int = 0,
    **extra,
) -> dict:
    """One bank operation; `date` is the booking date, later than `rdate` for card payments."""
    return {
        "rdate": day,
        "date": day + dt.timedelta(days=booking_delay_days),
        "value": value.quantize(CENT),
        "type": op_type,
        "original_wording": original,
        "simplified_wording": simplified,
        "counterparty": party,
        "original_value": None,
        "original_currency": None,
        "commission": None,
        "card": None,
        **extra,
    }


def card_payment(rng: random.Random, day: dt.date, account: AccountSpec, op_type: str) -> dict:
    merchant, city, low, high = rng.choice(wordings.CARD_MERCHANTS)
    value = -cents(rng, low, high)
    return operation(
        day,
        value,
        op_type,
        f"CB {merchant} {day:%d/%m} {city}",
        merchant,
        card_counterparty(merchant, account.card_number),
        booking_delay_days=rng.randint(1, 2),
        card=account.card_number,
    )


def foreign_card_payment(rng: random.Random, day: dt.date, account: AccountSpec, op_type: str) -> dict:
    merchant, city, currency = rng.choice(wordings.FOREIGN_MERCHANTS)
    original_value = -cents(rng, 350, 9000)
    gross = (original_value * EUR_PER_UNIT[currency]).quantize(CENT)
    commission = (gross * Decimal("0.02")).quantize(CENT)
    printed = format(-original_value, "f").replace(".", ",")
    return operation(
        day,
        gross + commission,
        op_type,
        f"CB {merchant} {day:%d/%m} {city} {printed} {currency}",
        merchant,
        card_counterparty(merchant, account.card_number),
        booking_delay_days=rng.randint(1, 3),
        card=account.card_number,
        gross_value=gross,
        original_value=original_value,
        original_gross_value=original_value,
        original_currency=currency,
        commission=commission,
        commission_currency="EUR",
    )


def direct_debit(rng, day, creditor, reference, low, high) -> dict:
    return operation(
        day,
        -cents(rng, low, high),
        "transfer",
        f"PRLV SEPA {creditor} {reference}",
        creditor,
        counterparty(creditor, True),
    )


def incoming_transfer(rng, day, label, wording, low, high) -> dict:
    return operation(day, cents(rng, low, high), "transfer", wording, label, counterparty(label, False))


def _checking_day(rng: random.Random, day: dt.date, account: AccountSpec) -> list[dict]:
    ops = [
        direct_debit(rng, day, creditor, reference, low, high)
        for creditor, reference, debit_day, low, high in wordings.PERSONAL_DIRECT_DEBITS
        if day.day == debit_day
    ]
    if day.day == 28:
        month = wordings.MONTH_NAMES[day.month - 1]
        ops.append(
            incoming_transfer(
                rng, day, wordings.EMPLOYER, f"VIR SEPA SALAIRE {month} {wordings.EMPLOYER}", 285000, 342000
            )
        )
    if day.day == 2:
        ops.append(
            operation(day, Decimal("-150.00"), "order", "VIR PERMANENT VERS LIVRET A", "VIREMENT LIVRET A", None)
        )
    if day.day == 7:
        ops.append(
            operation(
                day,
                Decimal("-612.37"),
                "loan_repayment",
                f"ÉCHÉANCE PRÊT IMMOBILIER N°{account.webid[-6:]}",
                "ÉCHÉANCE PRÊT IMMOBILIER",
                None,
            )
        )
    if day.day == 1:
        ops.append(operation(day, -cents(rng, 250, 990), "bank", "FRAIS BANCAIRES", "FRAIS BANCAIRES", None))
        ops.append(_card_statement(day, account))
    for _ in range(rng.choice((0, 1, 1, 2))):
        ops.append(card_payment(rng, day, account, "card"))
    if rng.random() < 0.04:
        ops.append(foreign_card_payment(rng, day, account, "card"))
    if rng.random() < 0.05:
        ops.append(
            operation(
                day,
                -Decimal(rng.choice((20, 40, 60, 100))),
                "withdrawal",
                f"RETRAIT DAB {day:%d/%m} {rng.choice(wordings.ATM_CITIES)}",
                "RETRAIT DAB",
                None,
            )
        )
    if rng.random() < 0.03:
        ops.append(
            operation(
                day, cents(rng, 3000, 45000), "deposit", f"REMISE CHÈQUE N°{digits(rng, 7)}", "REMISE CHÈQUE", None
            )
        )
    if rng.random() < 0.02:
        ops.append(operation(day, -cents(rng, 2000, 30000), "check", f"CHÈQUE N°{digits(rng, 7)}", "CHÈQUE", None))
    if rng.random() < 0.02:
        merchant = rng.choice(wordings.CARD_MERCHANTS)[0]
        ops.append(
            operation(
                day,
                cents(rng, 500, 6000),
                "refund",
                f"AVOIR CB {merchant} {day:%d/%m}",
                merchant,
                counterparty(merchant, False, with_iban=False),
            )
        )
    return ops


def _card_statement(day: dt.date, account: AccountSpec) -> dict:
    """Monthly debit of the deferred card on the checking account; mirrored as a credit on the card account."""
    total = previous_month_card_total(account.card_number, day)
    month = wordings.MONTH_NAMES[(day.month - 2) % 12]
    return operation(
        day, total, "summary_card", f"RELEVÉ CARTE {month} {account.card_number[-4:]}", "RELEVÉ CARTE", None
    )


def previous_month_card_total(card_number: str, first_of_month: dt.date) -> Decimal:
    last_month_end = first_of_month - dt.timedelta(days=1)
    total = Decimal("0.00")
    for day_number in range(1, last_month_end.day + 1):
        day = last_month_end.replace(day=day_number)
        rng = random.Random(f"{card_number}|card|{day.isoformat()}")
        total += sum(_card_day_values(rng))
    return total


def _card_day_values(rng: random.Random) -> list[Decimal]:
    return [-cents(rng, 900, 9000) for _ in range(rng.choice((0, 0, 1, 1, 2)))]


def _card_day(rng: random.Random, day: dt.date, account: AccountSpec) -> list[dict]:
    ops = []
    card_rng = random.Random(f"{account.card_number}|card|{day.isoformat()}")
    for value in _card_day_values(card_rng):
        merchant, city, _low, _high = rng.choice(wordings.CARD_MERCHANTS)
        ops.append(
            operation(
                day,
                value,
                "deferred_card",
                f"CB {merchant} {day:%d/%m} {city}",
                merchant,
                card_counterparty(merchant, account.card_number),
                card=account.card_number,
            )
        )
    if day.day == 1:
        statement = _card_statement(day, account)
        ops.append(dict(statement, value=-statement["value"]))
    return ops


def _savings_day(rng: random.Random, day: dt.date, account: AccountSpec) -> list[dict]:
    ops = []
    if day.day == 2:
        ops.append(incoming_transfer(rng, day, "VIREMENT COMPTE COURANT", "VIR SEPA ÉPARGNE MENSUELLE", 15000, 15000))
    if day.month == 12 and day.day == 31:
        ops.append(
            operation(
                day, cents(rng, 4000, 42000), "profit", f"INTÉRÊTS CRÉDITEURS {day.year}", "INTÉRÊTS CRÉDITEURS", None
            )
        )
    return ops


def _business_day(rng: random.Random, day: dt.date, account: AccountSpec) -> list[dict]:
    ops = [
        direct_debit(rng, day, creditor, reference, low, high)
        for creditor, reference, debit_day, low, high in wordings.BUSINESS_DIRECT_DEBITS
        if day.day == debit_day
    ]
    if day.weekday() < 5 and rng.random() < 0.35:
        customer = rng.choice(wordings.CUSTOMERS)
        ops.append(
            incoming_transfer(
                rng,
                day,
                f"CLIENT {customer}",
                f"VIR SEPA REÇU DE CLIENT {customer} FACT {day:%Y}-{digits(rng, 4)}",
                45000,
                620000,
            )
        )
    if day.weekday() < 5 and rng.random() < 0.12:
        supplier = rng.choice(wordings.SUPPLIERS)
        ops.append(
            operation(
                day,
                -cents(rng, 8000, 240000),
                "transfer",
                f"VIR SEPA ÉMIS VERS {supplier}",
                supplier,
                counterparty(supplier, True),
            )
        )
    if day.day == 1:
        ops.append(
            operation(day, -cents(rng, 1500, 4500), "bank", "FRAIS BANCAIRES ET COTISATIONS", "FRAIS BANCAIRES", None)
        )
    if rng.random() < 0.15:
        ops.append(card_payment(rng, day, account, "card"))
    return ops


def _term_day(rng: random.Random, day: dt.date, account: AccountSpec) -> list[dict]:
    if day.day != calendar.monthrange(day.year, day.month)[1]:
        return []
    return [
        operation(
            day, cents(rng, 1500, 6000), "profit", f"INTÉRÊTS {wordings.MONTH_NAMES[day.month - 1]}", "INTÉRÊTS", None
        )
    ]


DAY_GENERATORS = {
    "checking": _checking_day,
    "card": _card_day,
    "savings": _savings_day,
    "business": _business_day,
    "term": _term_day,
}


def operations_for_day(seed: int, account: AccountSpec, day: dt.date) -> list[dict]:
    rng = random.Random(f"{seed}|{account.webid}|{day.isoformat()}")
    return DAY_GENERATORS[account.kind](rng, day, account)


def operations_between(seed: int, account: AccountSpec, first_day: dt.date, last_day: dt.date) -> list[dict]:
    ops = []
    day = first_day
    while day <= last_day:
        ops.extend(operations_for_day(seed, account, day))
        day += dt.timedelta(days=1)
    return ops


def extra_card_payment(seed: int, account: AccountSpec, day: dt.date, salt: str) -> dict:
    """An unscheduled card payment (a new pending operation found by a sync, or one added by the control API)."""
    rng = random.Random(f"{seed}|{account.webid}|extra|{salt}")
    return card_payment(rng, day, account, "deferred_card" if account.kind == "card" else "card")


def months_before(day: dt.date, months: int) -> dt.date:
    month_index = day.year * 12 + day.month - 1 - months
    year, month = divmod(month_index, 12)
    return dt.date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))
