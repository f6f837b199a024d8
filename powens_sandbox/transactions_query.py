"""GET /transactions: Powens filters plus keyset paging with opaque `_links` cursors.

Rows are ordered by date descending, then id ascending; a cursor is base64 JSON holding the (date, id)
boundary, in the shape of Powens' documented example: [{"op": "lt", "value": date}, {"op": "gt", "value": id}]
means "after this row", the mirrored ops mean "before this row". Being a position rather than an offset, a
cursor never skips or repeats rows when new ones arrive between two pages.
"""

import base64
import binascii
import calendar
import datetime as dt
import json
import urllib.parse
from decimal import Decimal, InvalidOperation

from . import serializers
from .clock import format_datetime, parse_datetime
from .errors import invalid_value, missing_parameter

MAX_LIMIT = 1000
AFTER_OPS = ("lt", "gt")
BEFORE_OPS = ("gt", "lt")


def flag(args, name: str) -> bool:
    """Powens value-less flags: `?all` and `?all=true` are on, `?all=false` / `?all=0` are off."""
    return name in args and args.get(name, "").lower() not in ("false", "0")


def date_bound(name: str, text: str, upper: bool) -> str:
    """A `YYYY-MM-DD`, `YYYY-MM` or `YYYY` bound as the first (or last, when upper) day it covers."""
    try:
        parts = [int(part) for part in text.split("-")]
        if len(parts) == 3:
            day = dt.date(*parts)
        elif len(parts) == 2:
            day = dt.date(parts[0], parts[1], calendar.monthrange(*parts)[1] if upper else 1)
        elif len(parts) == 1:
            day = dt.date(parts[0], 12, 31) if upper else dt.date(parts[0], 1, 1)
        else:
            raise ValueError(text)
    except (ValueError, TypeError):
        raise invalid_value(f"{name} must be a date, a month or a year: {text!r}") from None
    return day.isoformat()


def decimal_param(name: str, text: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation:
        raise invalid_value(f"{name} must be a number") from None


def page_size(args) -> int:
    if not args.get("limit"):
        raise missing_parameter("limit")
    try:
        limit = int(args["limit"])
    except ValueError:
        raise invalid_value("limit must be an integer") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise invalid_value(f"limit must be between 1 and {MAX_LIMIT}")
    return limit


def encode_cursor(row: dict, ops: tuple[str, str]) -> str:
    payload = [{"op": ops[0], "value": row["date"]}, {"op": ops[1], "value": row["id"]}]
    return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode()


def decode_cursor(text: str) -> tuple[tuple[str, str], str, int]:
    try:
        date_op, id_op = json.loads(base64.urlsafe_b64decode(text.encode()))
        ops = (date_op["op"], id_op["op"])
        if ops not in (AFTER_OPS, BEFORE_OPS):
            raise ValueError(ops)
        return ops, str(date_op["value"]), int(id_op["value"])
    except (ValueError, TypeError, KeyError, binascii.Error):
        raise invalid_value("Invalid cursor") from None


def filtered(rows: list[dict], args) -> list[dict]:
    if args.get("deleted", "").lower() == "true":
        rows = [row for row in rows if row["deleted"] is not None]
    elif not flag(args, "all") or args.get("deleted", "").lower() == "false":
        rows = [row for row in rows if row["deleted"] is None]
    date_field = args.get("filter", "application_date")
    if date_field not in ("application_date", "date"):
        raise invalid_value("filter must be 'application_date' or 'date'")
    if args.get("min_date"):
        low = date_bound("min_date", args["min_date"], upper=False)
        rows = [row for row in rows if (row[date_field] or row["date"]) >= low]
    if args.get("max_date"):
        high = date_bound("max_date", args["max_date"], upper=True)
        rows = [row for row in rows if (row[date_field] or row["date"]) <= high]
    if args.get("last_update"):
        try:
            since = format_datetime(parse_datetime(args["last_update"]))
        except ValueError:
            raise invalid_value("last_update must be 'YYYY-MM-DD HH:MM:SS'") from None
        # A row Powens never stamped (`last_update` null, which the documentation allows) was not
        # "updated after" anything.
        rows = [row for row in rows if row["last_update"] is not None and row["last_update"] > since]
    if args.get("income") in ("true", "false"):
        wants_income = args["income"] == "true"
        rows = [row for row in rows if (row["value"] > 0) == wants_income]
    if args.get("wording"):
        needle = args["wording"].casefold()
        rows = [row for row in rows if needle in (row["wording"] or "").casefold()]
    if args.get("min_value"):
        low_value = decimal_param("min_value", args["min_value"])
        rows = [row for row in rows if row["value"] >= low_value]
    if args.get("max_value"):
        high_value = decimal_param("max_value", args["max_value"])
        rows = [row for row in rows if row["value"] <= high_value]
    return rows


def is_after(row: dict, date: str, row_id: int) -> bool:
    return row["date"] < date or (row["date"] == date and row["id"] > row_id)


def is_before(row: dict, date: str, row_id: int) -> bool:
    return row["date"] > date or (row["date"] == date and row["id"] < row_id)


def link(base_url: str, args, cursor: str) -> dict:
    params = [(key, value) for key, value in args.items(multi=True) if key not in ("cursor", "offset")]
    params.append(("cursor", cursor))
    return {"href": base_url + "?" + urllib.parse.urlencode(params)}


def transactions_page(scope: list[dict], args, base_url: str, self_url: str) -> dict:
    limit = page_size(args)
    rows = sorted(filtered(scope, args), key=lambda row: (row["date"], -row["id"]), reverse=True)
    if args.get("cursor"):
        ops, date, row_id = decode_cursor(args["cursor"])
        if ops == AFTER_OPS:
            page = [row for row in rows if is_after(row, date, row_id)][:limit]
        else:
            page = [row for row in rows if is_before(row, date, row_id)][-limit:]
    else:
        try:
            offset = int(args.get("offset") or 0)
        except ValueError:
            raise invalid_value("offset must be an integer") from None
        page = rows[offset : offset + limit]
    has_next = bool(page) and any(is_after(row, page[-1]["date"], page[-1]["id"]) for row in rows)
    has_prev = bool(page) and any(is_before(row, page[0]["date"], page[0]["id"]) for row in rows)
    dates = [row["date"] for row in scope]
    return {
        "transactions": [serializers.transaction(row) for row in page],
        "first_date": min(dates, default=None),
        "last_date": max(dates, default=None),
        "result_min_date": page[-1]["date"] if page else None,
        "result_max_date": page[0]["date"] if page else None,
        "total": len(rows),
        "_links": {
            "self": {"href": self_url},
            "prev": link(base_url, args, encode_cursor(page[0], BEFORE_OPS)) if has_prev else None,
            "next": link(base_url, args, encode_cursor(page[-1], AFTER_OPS)) if has_next else None,
        },
    }
