"""Currency objects as Powens returns them, and the fixed exchange rates of simulated foreign card payments."""

from decimal import Decimal

_CURRENCIES = {
    "EUR": ("€", False, "Euro"),
    "USD": ("$", True, "US Dollar"),
    "GBP": ("£", True, "British Pound"),
    "CHF": ("CHF", False, "Swiss Franc"),
}
EUR_PER_UNIT = {"USD": Decimal("0.92"), "GBP": Decimal("1.17"), "CHF": Decimal("1.05")}


def currency_object(code: str | None) -> dict | None:
    if code is None:
        return None
    symbol, prefix, name = _CURRENCIES[code]
    return {
        "id": code,
        "symbol": symbol,
        "prefix": prefix,
        "crypto": False,
        "precision": 2,
        "marketcap": None,
        "datetime": None,
        "name": name,
    }
