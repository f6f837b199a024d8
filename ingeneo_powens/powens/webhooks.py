"""Reading a Powens webhook delivery (§7): the body (gzip-decoded within a cap), its JSON, its
event type and the Powens user it belongs to. Pure Python; the signature is checked by
:mod:`.signature`, what the delivery changes is decided by the add-on's models.

Powens sends no event name in the delivery itself: the console registers one URL per event type
(Formance registers ``/connection-synced``, ``/user-deleted``...). So the event comes from the
URL when it names one (``/powens/webhook/connection_synced``), else from the payload's shape
(:func:`infer_event`), which tells apart only the events whose shapes differ.
"""

import json
import re
import zlib
from dataclasses import dataclass
from datetime import datetime

from .const import SIGNATURE_DATE_HEADER, SIGNATURE_HEADER
from .errors import WebhookSignatureError
from .signature import SignatureCheck, check_signature_date

CONNECTION_SYNCED = 'CONNECTION_SYNCED'
ACCOUNT_SYNCED = 'ACCOUNT_SYNCED'
CONNECTION_DELETED = 'CONNECTION_DELETED'
USER_DELETED = 'USER_DELETED'
# Events whose payload is a User object, whose "id" is therefore the Powens user's.
USER_EVENTS = frozenset({'USER_CREATED', USER_DELETED})

_EVENT_NAME = re.compile(r'^[A-Z][A-Z_]{0,63}$')


class WebhookPayloadError(ValueError):
    """The body is not what Powens sends: not gzip when it says so, not a JSON object (400)."""


class WebhookTooLarge(ValueError):
    """The body, or what it decompresses to, is larger than accepted (413)."""


class WebhookEncodingError(ValueError):
    """A Content-Encoding other than gzip or identity (415)."""


class WebhookRefused(Exception):
    """A delivery answered without being acted upon: the HTTP ``status`` and the ``reason``
    (for the log; the answer says only ``answer``)."""

    # What the answer says: a refusal tells nothing of why, but a signed body that is not
    # JSON is the sender's to know.
    ANSWERS = {
        403: 'forbidden',
        413: 'payload too large',
        415: 'unsupported content encoding',
    }

    def __init__(self, status, reason):
        super().__init__(reason)
        self.status = status
        self.reason = str(reason)

    @property
    def answer(self):
        return self.ANSWERS.get(self.status, self.reason)


@dataclass(frozen=True)
class WebhookLimits:
    """How much of a delivery is read: ``body`` as sent, ``decoded`` while its signature is
    checked piece by piece, ``parsed`` as JSON at once; ``max_age`` of its signature date."""

    body: int
    decoded: int
    parsed: int
    max_age: object  # datetime.timedelta


@dataclass(frozen=True)
class Delivery:
    """An authenticated delivery. ``signers``: what the secrets that verified it stand for
    (the contracts); ``payload`` None when it is too long to be parsed at once."""

    signed_at: datetime
    signature: str
    signers: frozenset
    event: str | None
    payload: dict | None
    size: int


def read_delivery(path, headers, read_body, secrets, event_segment, limits):
    """Authenticate a delivery posted to ``path`` and read it, in the order that makes a
    stranger cost the least:

    1. ``BI-Signature`` / ``BI-Signature-Date`` present, the date within ``limits.max_age``
       back and the tolerance ahead, a known encoding, a declared length within the cap: else
       refused before the body is read;
    2. the body's HMAC, as sent and (gzip) as decoded piece by piece, with each of
       ``secrets()`` (``{secret: signers}``, asked only now): refused unless one matches;
    3. only then is the JSON parsed (``payload`` None beyond ``limits.parsed``).

    ``read_body()`` returns the raw bytes or raises :class:`WebhookTooLarge`.

    :raises WebhookRefused: with the status to answer.
    """
    date_header, signature_header = headers.get(SIGNATURE_DATE_HEADER), headers.get(SIGNATURE_HEADER)
    content_encoding = headers.get('Content-Encoding')
    try:
        signed_at = check_signature_date(date_header, signature_header, max_age=limits.max_age)
        content_coding(content_encoding)
    except WebhookSignatureError as error:
        raise WebhookRefused(403, error) from None
    except WebhookEncodingError as error:
        raise WebhookRefused(415, error) from None
    if _declared_length(headers) > limits.body:
        raise WebhookRefused(413, 'payload too large')
    by_secret = secrets()
    if not by_secret:
        raise WebhookRefused(403, 'no webhook secret configured')
    try:
        raw = read_body()
        check = SignatureCheck(by_secret, path, date_header, signature_header)
    except WebhookTooLarge:
        raise WebhookRefused(413, 'payload too large') from None
    except WebhookSignatureError as error:
        raise WebhookRefused(403, error) from None
    undecodable = feed_signature_check(check, raw, content_encoding, limits.decoded)
    signers = frozenset().union(*(by_secret[secret] for secret in check.matching_secrets()))
    if not signers:
        raise WebhookRefused(403, f'signature mismatch{f" ({undecodable})" if undecodable else ""}')
    if isinstance(undecodable, WebhookTooLarge):
        raise WebhookRefused(413, 'payload too large')
    if undecodable:
        raise WebhookRefused(400, undecodable)
    event = event_from_url(event_segment) if event_segment else None
    try:
        payload = parse_payload(decode_body(raw, content_encoding, limits.parsed))
    except WebhookTooLarge:
        payload = None
    except WebhookPayloadError as error:
        raise WebhookRefused(400, error) from None
    if payload is not None:
        event = event or infer_event(payload)
    return Delivery(signed_at, signature_header, signers, event, payload, len(raw))


def _declared_length(headers):
    """The Content-Length announced, 0 when absent or unreadable (the read is capped anyway)."""
    value = (headers.get('Content-Length') or '').strip()
    return int(value) if value.isdigit() else 0


# Pieces of a gzip body handled at a time, compressed and decoded: what a gzip bomb costs in
# memory while it is checked, whatever it decompresses to.
COMPRESSED_PIECE_BYTES = 64 * 1024
DECODED_PIECE_BYTES = 256 * 1024


def content_coding(content_encoding):
    """'gzip' for a body sent gzip-encoded, None for one sent as is; Powens sends nothing else
    (``Content-Encoding: gzip`` once ``webhooks.compression.enabled``, §7.1)."""
    codings = [coding.strip().lower() for coding in (content_encoding or '').split(',') if coding.strip()]
    codings = [coding for coding in codings if coding != 'identity']
    if not codings:
        return None
    if codings in (['gzip'], ['x-gzip']):
        return 'gzip'
    raise WebhookEncodingError(f'unsupported Content-Encoding {(content_encoding or "")[:20]!r}')


def decode_body(raw, content_encoding, max_bytes):
    """Return the delivery's JSON bytes: ``raw`` itself, or ``raw`` gunzipped when
    ``content_encoding`` says gzip, never more than ``max_bytes`` (gzip bomb)."""
    if content_coding(content_encoding) == 'gzip':
        return gunzip(raw, max_bytes)
    if len(raw) > max_bytes:
        raise WebhookTooLarge(f'the body is longer than {max_bytes} bytes')
    return raw


def gunzip(data, max_bytes):
    """Decompress gzip ``data`` (one member or several), stopping as soon as the output would
    exceed ``max_bytes``."""
    return b''.join(iter_gunzip(data, max_bytes))


def iter_gunzip(data, max_bytes, piece_bytes=DECODED_PIECE_BYTES):
    """Yield the decompressed bytes of gzip ``data`` (one member or several), taking
    ``COMPRESSED_PIECE_BYTES`` of input and giving at most ``piece_bytes`` of output at a time,
    so that nothing but the current pieces is held.

    :raises WebhookTooLarge: as soon as the output would exceed ``max_bytes``.
    :raises WebhookPayloadError: ``data`` is not gzip, or is cut short.
    """
    produced = 0
    decompressor = None
    for start in range(0, len(data), COMPRESSED_PIECE_BYTES):
        pending = bytes(data[start : start + COMPRESSED_PIECE_BYTES])
        while pending:
            if decompressor is None or decompressor.eof:  # the first gzip member, or the next one
                decompressor = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
            for piece in _inflate(decompressor, pending, piece_bytes):
                produced += len(piece)
                if produced > max_bytes:
                    raise WebhookTooLarge(f'the body decompresses to more than {max_bytes} bytes')
                yield piece
            pending = decompressor.unused_data  # what follows the end of a member
    if decompressor is None or not decompressor.eof:
        raise WebhookPayloadError('the gzip body is truncated')


def _inflate(decompressor, data, piece_bytes):
    """Decompress ``data`` (up to the end of its gzip member), ``piece_bytes`` at most at a time."""
    try:
        piece = decompressor.decompress(data, piece_bytes)
        while piece:
            yield piece
            if decompressor.eof:
                return
            piece = decompressor.decompress(decompressor.unconsumed_tail, piece_bytes)
    except zlib.error:
        raise WebhookPayloadError('the body is not valid gzip') from None


def feed_signature_check(check, raw, content_encoding, max_decoded_bytes):
    """Run the whole body through ``check`` (a :class:`.signature.SignatureCheck`), as sent and,
    when gzip-encoded, as decoded piece by piece: a gzip bomb is never held whole, and the
    decoding stops at ``max_decoded_bytes``. Return why the decoded body could not be gone
    through (WebhookTooLarge, WebhookPayloadError), or None."""
    check.update_as_sent(raw)
    if content_coding(content_encoding) != 'gzip':
        return None
    check.start_decoded()
    try:
        for piece in iter_gunzip(raw, max_decoded_bytes):
            check.update_decoded(piece)
    except (WebhookTooLarge, WebhookPayloadError) as error:
        check.abandon_decoded()
        return error.with_traceback(None)  # its frames hold the last pieces
    return None


def parse_payload(data):
    """Return the delivery's JSON object; anything else is a :class:`WebhookPayloadError`."""
    try:
        payload = json.loads(data)
    except (ValueError, RecursionError):  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise WebhookPayloadError('the body is not JSON') from None
    if not isinstance(payload, dict):
        raise WebhookPayloadError('the body is not a JSON object')
    return payload


def event_from_url(segment):
    """``connection-synced``, ``connection_synced``, ``CONNECTION_SYNCED`` -> ``CONNECTION_SYNCED``;
    None for anything that cannot be an event name."""
    name = (segment or '').strip().replace('-', '_').upper()
    return name if _EVENT_NAME.match(name) else None


def infer_event(payload):
    """The event of a delivery posted to the URL without an event name, from its shape:

    - ``{user, connection}``: CONNECTION_SYNCED (ACCOUNTS_FETCHED has the same shape, its
      accounts without transactions: handling it alike is harmless);
    - a BankAccount object with ``transactions``: ACCOUNT_SYNCED;
    - a bare Connection object (``id_user`` and ``id_connector``/``connector_uuid``):
      CONNECTION_DELETED, the only event sending one;
    - anything else, None. A User object is USER_CREATED or USER_DELETED alike: USER_DELETED
      is only believed on its own URL (``.../user_deleted``).
    """
    if isinstance(payload.get('connection'), dict):
        return CONNECTION_SYNCED
    if 'id_connection' in payload and isinstance(payload.get('transactions'), list):
        return ACCOUNT_SYNCED
    if (
        'id_user' in payload
        and ('id_connector' in payload or 'connector_uuid' in payload)
        and 'id_connection' not in payload
    ):
        return CONNECTION_DELETED
    return None


def powens_user_id(event, payload):
    """The Powens user a delivery belongs to (``user.id``, top-level ``id_user``,
    ``connection.id_user``, or a User object's ``id``); None when absent or contradictory."""
    candidates = []
    user = payload.get('user')
    if isinstance(user, dict):
        candidates.append(user.get('id'))
    if event in USER_EVENTS or (event is None and is_user_object(payload)):
        candidates.append(payload.get('id'))
    candidates.append(payload.get('id_user'))
    connection = payload.get('connection')
    if isinstance(connection, dict):
        candidates.append(connection.get('id_user'))
    found = {value for value in map(as_id, candidates) if value}
    return found.pop() if len(found) == 1 else None


def is_user_object(payload):
    """A User object (USER_CREATED, USER_DELETED): its ``id`` is the user's."""
    return 'signin' in payload and not {'id_user', 'id_connection', 'connection'} & set(payload)


def as_id(value):
    """A Powens integer identifier (int or digits), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip()) or None
    return None
