"""Public JSON shapes of stored records (connector, user, connection, account, transaction, lists)."""

from decimal import Decimal

from . import connectors
from .currencies import currency_object


def public(record: dict) -> dict:
    return {key: value for key, value in record.items() if not key.startswith("_")}


def connector(item: connectors.Connector, expand: set[str] = frozenset()) -> dict:
    data = {
        "id": item.id,
        "uuid": item.uuid,
        "name": item.name,
        "hidden": False,
        "charged": True,
        "code": item.bank_code,
        "beta": False,
        "color": item.color,
        "slug": item.slug.upper().replace("-", "_"),
        "sync_frequency": None,
        "months_to_fetch": None,
        "auth_mechanism": item.auth_mechanism,
        "available_auth_mechanisms": [item.auth_mechanism],
        "transfer_mechanism": None,
        "siret": None,
        "restricted": False,
        "capabilities": list(item.capabilities),
        "account_usages": list(item.account_usages),
        "products": ["bank"],
        "id_bank": item.id,
    }
    if "fields" in expand:
        data["fields"] = item.fields
    if "countries" in expand:
        data["countries"] = [{"id": "FR", "name": "France"}]
    if "sources" in expand:
        data["sources"] = [
            {
                "id": item.id * 10,
                "id_connector": item.id,
                "name": "openapi",
                "auth_mechanism": item.auth_mechanism,
                "available_auth_mechanisms": [item.auth_mechanism],
                "disabled": None,
                "priority": 1,
                "account_usages": list(item.account_usages),
            }
        ]
    return data


def user(record: dict) -> dict:
    return {"id": record["id"], "signin": record["signin"], "platform": record["platform"]}


def account(store, record: dict) -> dict:
    """Balance = opening balance + booked operations, coming = pending ones: always consistent with the rows."""
    booked = coming = Decimal("0.00")
    for tx in store.account_transactions(record["id"]):
        # A row without an amount (Powens allows `value: null`) moves no balance.
        if tx["deleted"] is None and tx["value"] is not None:
            if tx["coming"]:
                coming += tx["value"]
            else:
                booked += tx["value"]
    balance = record["_opening_balance"] + booked
    data = public(record)
    data.update(
        balance=balance, coming=coming, coming_balance=balance + coming, currency=currency_object(record["_currency"])
    )
    return data


def accounts_list(store, records: list[dict]) -> dict:
    items = [account(store, record) for record in records]
    balances: dict[str, Decimal] = {}
    coming_balances: dict[str, Decimal] = {}
    for item in items:
        if item["disabled"] is None:
            code = item["currency"]["id"]
            balances[code] = balances.get(code, Decimal("0.00")) + item["balance"]
            coming_balances[code] = coming_balances.get(code, Decimal("0.00")) + item["coming_balance"]
    return {
        "accounts": items,
        "balances": balances,
        "coming_balances": coming_balances,
        "balance": sum(balances.values(), Decimal("0.00")),
        "total": len(items),
    }


def transaction(record: dict) -> dict:
    data = public(record)
    data["original_currency"] = currency_object(record["original_currency"])
    data["commission_currency"] = currency_object(record["commission_currency"])
    return data


def connection(store, record: dict, expand: set[str] = frozenset()) -> dict:
    data = public(record)
    data.pop("sources")
    data["error"] = record["state"]
    data["id_bank"] = data["id_provider"] = record["id_connector"]
    if "connector" in expand:
        data["connector"] = connector(connectors.find(record["connector_uuid"]), {"fields"})
    if "sources" in expand:
        data["sources"] = [dict(source) for source in record["sources"]]
    # Each expand under its own key, as the OpenAPI spec has them: `accounts` (enabled ones), `all_accounts`.
    records = store.connection_accounts(record["id"])
    if "all_accounts" in expand:
        data["all_accounts"] = [account(store, item) for item in records]
    if "accounts" in expand:
        data["accounts"] = [account(store, item) for item in records if item["disabled"] is None]
    return data


def expand_param(value: str | None) -> set[str]:
    """`expand=accounts,connector[countries]` -> {"accounts", "connector"}; nested brackets are ignored."""
    names, depth, current = set(), 0, ""
    for char in value or "":
        if char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
        elif char == "," and depth == 0:
            names.add(current.strip())
            current = ""
        elif depth == 0:
            current += char
    names.add(current.strip())
    return names - {""}
