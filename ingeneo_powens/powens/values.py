"""Interpretation of Powens values: amounts, dates, datetimes and open enums.

Powens adds enum values over time (§0): every helper here maps an unknown value to a generic
case instead of failing.
"""

import datetime
import math
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from . import const

POWENS_TZ = ZoneInfo(const.POWENS_TIMEZONE)
UTC = datetime.UTC


def parse_amount(value):
    """Return a JSON amount as an exact Decimal.

    Floats go through ``repr`` (the shortest text that round-trips), so ``-56.78`` stays
    ``Decimal('-56.78')`` and not its binary approximation.
    """
    if isinstance(value, bool) or value is None:
        raise ValueError(f'Not an amount: {value!r}')
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f'Not a finite amount: {value!r}')
        value = repr(value)
    try:
        amount = Decimal(value.strip() if isinstance(value, str) else value)
    except (InvalidOperation, TypeError, ValueError):
        raise ValueError(f'Not an amount: {value!r}') from None
    if not amount.is_finite():
        raise ValueError(f'Not a finite amount: {value!r}')
    return amount


def parse_date(value):
    """Return a ``YYYY-MM-DD`` value (or a datetime text's date part) as a date, None if empty."""
    if value in (None, ''):
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value)[:10])
    except ValueError:
        raise ValueError(f'Not a date: {value!r}') from None


def parse_datetime(value, *, default_tz=POWENS_TZ):
    """Return a Powens datetime as an aware datetime, None if empty.

    Powens' ``YYYY-MM-DD HH:MM:SS`` carries no offset; it is Europe/Paris local time for most
    fields (``last_update``, ``created``, ``deleted``, ``expire``...) and UTC for the documented
    ``datetime``/``rdatetime``/``vdatetime``/``bdatetime`` (pass ``default_tz=UTC`` for those).
    A text with an explicit offset keeps it.
    """
    if value in (None, ''):
        return None
    if isinstance(value, datetime.datetime):
        parsed = value
    else:
        try:
            parsed = datetime.datetime.fromisoformat(str(value).strip())
        except ValueError:
            raise ValueError(f'Not a datetime: {value!r}') from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=default_tz)
    return parsed


def naive_utc(moment):
    """Return an aware datetime as naive UTC, Odoo's way of storing datetimes (False if empty)."""
    if not moment:
        return False
    return moment.astimezone(UTC).replace(tzinfo=None)


def format_datetime(value):
    """Format the lower bound of a Powens filter (``last_update``): Paris local time.

    A naive datetime is taken as UTC, Odoo's convention for stored datetimes. In the autumn
    hour that Paris lives twice, the first time through is written an hour earlier: Powens
    may read the text as either time, and a lower bound read too late loses changes, while
    one read too early only re-reads some.
    """
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    local = value.astimezone(POWENS_TZ)
    if not local.fold and local.replace(fold=1).utcoffset() != local.utcoffset():
        local -= datetime.timedelta(hours=1)
    return local.strftime(const.DATETIME_FORMAT)


def format_date_filter(value):
    """Format a ``min_date``/``max_date`` filter: a date, or a text passed as given
    (Powens also accepts ``YYYY-MM`` and ``YYYY``)."""
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def normalize_transaction_type(value):
    """Map a transaction type to its current spelling; unknown or missing types to ``unknown``."""
    value = const.TRANSACTION_TYPE_ALIASES.get(value, value)
    return value if value in const.TRANSACTION_TYPES else const.UNKNOWN_TRANSACTION_TYPE


def connection_state(connection):
    """Return a connection's state, read from ``state`` or from its deprecated alias ``error``."""
    if 'state' in connection:
        return connection['state'] or None
    return connection.get('error') or None


def connection_state_group(state):
    """Classify a connection state: ok, user action needed, transient, or generic error."""
    if not state:
        return const.STATE_GROUP_OK
    if state in const.USER_ACTION_STATES:
        return const.STATE_GROUP_USER_ACTION
    if state in const.TRANSIENT_STATES:
        return const.STATE_GROUP_TRANSIENT
    return const.STATE_GROUP_ERROR
