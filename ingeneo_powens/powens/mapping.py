"""Turn one Powens transaction (API list item or webhook entry, §6.4) into a validated,
plain description of a bank statement line.

Nothing here touches Odoo: the ORM side only copies the fields of :class:`MappedTransaction`.
Every field the statement line is made of (identity, booking date, amount, wordings, pending
flag) is either valid or the whole transaction is refused with :class:`TransactionRejected`,
so a format change at Powens surfaces as a visible rejection instead of a wrong line in the
ledger. Fields the line does not need (value date, account id, ``last_update``) never refuse a
movement: a malformed one is read as absent. Unknown fields and unknown enum values are
tolerated (Powens adds them over time, §0).
"""

import dataclasses
import datetime
import re
from decimal import Decimal

from .values import normalize_transaction_type, parse_amount, parse_date, parse_datetime

# Longest text kept in a label, wording or counterparty field. Bank wordings are a few dozen
# characters; a longer one is noise and must not bloat every statement line.
MAX_TEXT_LENGTH = 1000
# Amounts at or above this are not bank movements but garbage; Odoo computes with floats,
# exact to the cent only up to about 15 significant digits.
MAX_ABS_AMOUNT = Decimal(10) ** 13
MIN_YEAR, MAX_YEAR = 1900, 2999
MAX_PRECISION = 6
# Accounting date first, then the ordering date, then the value date (see _booking_date).
BOOKING_DATE_FIELDS = ('date', 'rdate', 'vdate')
# The editable `wording` defaults to the simplified one; the raw bank text comes last.
LABEL_FIELDS = ('simplified_wording', 'wording', 'original_wording')
# The counterparty's account_identification is a bank account number only under this scheme;
# under `cpan`/`tpan` it is a card number or its token, never to be stored as an account.
IBAN_SCHEME = 'iban'

_CURRENCY_CODE = re.compile(r'[A-Z]{3}')
# PostgreSQL text columns refuse NUL; lone surrogates (json.loads lets "\ud800" through)
# cannot be encoded to UTF-8 at all.
_NUL = '\x00'
_LONE_SURROGATE = re.compile('[\ud800-\udfff]')


# The kinds of refusal: what is wrong with the transaction, whatever the field.
PROBLEMS = ('structure', 'identifier', 'date', 'amount', 'currency', 'text', 'status')


class TransactionRejected(ValueError):
    """A Powens transaction cannot become a statement line.

    ``reason`` names the field and the problem, never the field's content (which may be
    huge or personal), in English for the log and for whoever reads Powens' data; ``problem``
    is its kind, one of ``PROBLEMS``, which the accountant reads in their language;
    ``powens_id`` is the transaction id when it could be read.
    """

    def __init__(self, reason, *, problem='structure', powens_id=None):
        self.reason = reason
        self.problem = problem
        self.powens_id = powens_id
        prefix = f'Powens transaction {powens_id}' if powens_id else 'Powens transaction'
        super().__init__(f'{prefix} rejected: {reason}')


@dataclasses.dataclass(frozen=True)
class MappedTransaction:
    """What a statement line needs from one Powens transaction, already validated."""

    powens_id: str
    account_id: int | None
    booking_date: datetime.date
    value_date: datetime.date | None
    amount: Decimal
    label: str
    original_wording: str
    partner_name: str | None
    partner_account_number: str | None
    transaction_type: str
    foreign_amount: Decimal | None
    foreign_currency: str | None
    pending: bool
    deleted: bool
    last_update: datetime.datetime | None
    # The original dict, for `transaction_details`, with its texts made storable (no NUL, no
    # lone surrogate: PostgreSQL's jsonb refuses both); not compared, hashed nor printed.
    payload: dict = dataclasses.field(compare=False, hash=False, repr=False)


def map_transaction(payload, *, account_currency, precision=2):
    """Map one Powens transaction to a :class:`MappedTransaction`.

    :param payload: the transaction dict as decoded from JSON (floats or Decimals).
    :param account_currency: ISO code of the bank account's currency (``EUR``).
    :param precision: decimal places of that currency (2 for EUR, 0 for JPY, 3 for KWD).
    :raises TransactionRejected: the transaction is unusable; the reason says why.
    :raises ValueError: ``account_currency`` or ``precision`` is invalid (a caller bug).
    """
    account_currency = _account_currency_code(account_currency)
    if not _is_integer(precision) or not 0 <= precision <= MAX_PRECISION:
        raise ValueError(f'Currency precision must be an integer from 0 to {MAX_PRECISION}')
    if not isinstance(payload, dict):
        raise TransactionRejected(f'expected an object, got {type(payload).__name__}')
    powens_id = _powens_id(payload)
    try:
        return _map(payload, powens_id, account_currency, precision)
    except TransactionRejected as rejection:
        raise TransactionRejected(rejection.reason, problem=rejection.problem, powens_id=powens_id) from None


def _map(payload, powens_id, account_currency, precision):
    raw_type = payload.get('type')
    transaction_type = normalize_transaction_type(raw_type if isinstance(raw_type, str) else None)
    foreign_amount, foreign_currency = _foreign_amount(payload, account_currency)
    counterparty = payload.get('counterparty')
    if not isinstance(counterparty, dict):
        counterparty = {}
    return MappedTransaction(
        powens_id=powens_id,
        account_id=_account_id(payload),
        booking_date=_booking_date(payload),
        value_date=_optional(_date_field, payload, 'vdate'),
        amount=_exact_amount(payload, precision),
        label=_label(payload, transaction_type),
        original_wording=_text(payload, 'original_wording', strip=False),
        partner_name=_text(counterparty, 'label') or None,
        partner_account_number=_counterparty_iban(counterparty),
        transaction_type=transaction_type,
        foreign_amount=foreign_amount,
        foreign_currency=foreign_currency,
        pending=_pending(payload),
        deleted=payload.get('deleted') not in (None, '', False),
        last_update=_optional(_last_update, payload),
        payload=storable(payload),
    )


def storable(value):
    """``value`` (JSON data) with every text cleaned of what PostgreSQL cannot store; a
    refused transaction is kept this way too."""
    if isinstance(value, str):
        return _LONE_SURROGATE.sub('\ufffd', value.replace(_NUL, ''))
    if isinstance(value, dict):
        return {storable(key): storable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [storable(item) for item in value]
    return value


def _account_currency_code(code):
    normalized = code.strip().upper() if isinstance(code, str) else None
    if not normalized or not _CURRENCY_CODE.fullmatch(normalized):
        raise ValueError(f'Account currency must be an ISO 4217 code, got {code!r}')
    return normalized


def _is_integer(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _powens_id(payload):
    value = payload.get('id')
    if value is None:
        raise TransactionRejected('missing id', problem='identifier')
    if not _is_integer(value):
        raise TransactionRejected(f'id is not an integer ({type(value).__name__})', problem='identifier')
    if value < 0:
        raise TransactionRejected('id is negative', problem='identifier')
    return str(value)


def _account_id(payload):
    """The account id, when it is one: the journal fed comes from the pull, never from here."""
    value = payload.get('id_account')
    return value if _is_integer(value) else None


def _optional(read, *args):
    """``read(*args)``, or None when the field is malformed: for fields the line can do without."""
    try:
        return read(*args)
    except TransactionRejected:
        return None


def _date_field(payload, field):
    """Read a date field as the calendar date it is written with, or None when absent.

    Only the ``YYYY-MM-DD`` part counts: a time that comes with it is never converted
    between zones, since that would move a movement near midnight to another day.
    """
    value = payload.get(field)
    if isinstance(value, str):
        value = value.strip()
    elif value is not None and not isinstance(value, datetime.date):
        raise TransactionRejected(f'{field} is not a date ({type(value).__name__})', problem='date')
    try:
        parsed = parse_date(value)
    except ValueError:
        raise TransactionRejected(f'{field} is not a valid date', problem='date') from None
    if parsed is not None and not MIN_YEAR <= parsed.year <= MAX_YEAR:
        raise TransactionRejected(f'{field} is outside the years {MIN_YEAR}-{MAX_YEAR}', problem='date')
    return parsed


def _booking_date(payload):
    """The statement line's date: Powens' ``date``, the day the bank booked the movement.

    That is the accounting date, the one printed on the bank statement, so balances per day
    match the bank's. It is taken as written, never derived from the UTC ``datetime``
    (an early-morning Paris movement is on the previous day in UTC). Older or partial
    payloads without ``date`` fall back to the ordering date, then the value date.
    """
    for field in BOOKING_DATE_FIELDS:
        booking_date = _date_field(payload, field)
        if booking_date is not None:
            return booking_date
    raise TransactionRejected('no booking date (date, rdate and vdate are all empty)', problem='date')


def _checked_amount(value, field):
    """An exact, finite Decimal of sane size, or a rejection naming ``field``.

    Floats from the standard ``json`` module go through ``repr`` in parse_amount: a JSON
    ``-56.78`` becomes ``Decimal('-56.78')``, not its binary approximation.
    """
    try:
        amount = parse_amount(value)
    except ValueError:
        raise TransactionRejected(f'{field} is not a finite amount', problem='amount') from None
    if abs(amount) >= MAX_ABS_AMOUNT:
        raise TransactionRejected(f'{field} is too large to be a bank movement', problem='amount')
    return amount


def _exact_amount(payload, precision):
    """The signed amount in the account currency, at the currency's precision.

    Padding to the precision (``-56.7`` → ``-56.70``) is harmless; dropping digits is not:
    ``12.345`` EUR would have to be rounded to a cent the bank never booked, so the
    transaction is refused instead and the accountant sees it rather than a silent error.
    """
    amount = _checked_amount(payload.get('value'), 'value')
    quantum = Decimal(1).scaleb(-precision)
    quantized = amount.quantize(quantum)
    if quantized != amount:
        raise TransactionRejected(
            f'value has more decimals than the currency allows ({precision}); refusing to round money',
            problem='amount',
        )
    return quantized


def _currency_code(currency):
    """An ISO code from a Currency object (``{"id": "USD", ...}``) or a bare code string."""
    if isinstance(currency, dict):
        currency = currency.get('id')
    if currency in (None, ''):
        return None
    code = currency.strip().upper() if isinstance(currency, str) else None
    if not code or not _CURRENCY_CODE.fullmatch(code):
        raise TransactionRejected('original_currency is not an ISO currency code', problem='currency')
    return code


def _foreign_amount(payload, account_currency):
    """The amount in the original currency and its code, when it differs from the account's.

    A foreign currency without an original amount gives neither: Odoo needs both together,
    and the account-currency amount alone is still exact. The foreign amount is kept as the
    bank sent it (its currency's precision is not known here).
    """
    currency = _currency_code(payload.get('original_currency'))
    if currency is None or currency == account_currency:
        return None, None
    if payload.get('original_value') is None:
        return None, None
    return _checked_amount(payload['original_value'], 'original_value'), currency


def _text(mapping, field, *, strip=True):
    """A text field made storable and bounded, ``''`` when absent; other types are refused.

    NUL and lone surrogates are removed or replaced (PostgreSQL could not store them), and
    the text is capped at MAX_TEXT_LENGTH. Slicing a Python string cuts between code points,
    so the cap never leaves a broken character behind. ``strip=False`` keeps the text's
    own spacing, for the raw bank wording.
    """
    value = mapping.get(field)
    if value is None:
        return ''
    if not isinstance(value, str):
        raise TransactionRejected(f'{field} is not a text ({type(value).__name__})', problem='text')
    text = storable(value)
    if strip:
        return text.strip()[:MAX_TEXT_LENGTH].rstrip()
    return text[:MAX_TEXT_LENGTH]


def _counterparty_iban(counterparty):
    """The counterparty's IBAN, when its scheme says it is one; nothing for a card PAN or token."""
    scheme = counterparty.get('account_scheme_name')
    if not isinstance(scheme, str) or scheme.strip().lower() != IBAN_SCHEME:
        return None
    return _text(counterparty, 'account_identification') or None


def _label(payload, transaction_type):
    """The first non-blank wording, else the type's name, so a line never has no label.

    All wordings are read, so a malformed one is refused even when an earlier one is used.
    """
    wordings = [_text(payload, field) for field in LABEL_FIELDS]
    return next(filter(None, wordings), transaction_type.replace('_', ' ').capitalize())


def _pending(payload):
    """``coming`` decides whether the line may be posted, so only a real boolean counts."""
    coming = payload.get('coming')
    if coming is None:
        return False
    if not isinstance(coming, bool):
        raise TransactionRejected(f'coming is not a boolean ({type(coming).__name__})', problem='status')
    return coming


def _last_update(payload):
    """When Powens last changed the transaction, as an aware datetime (Paris time, §12);
    Powens may send none."""
    try:
        return parse_datetime(payload.get('last_update'))
    except ValueError:
        raise TransactionRejected('last_update is not a valid datetime', problem='date') from None
