"""Authentication of Powens webhook deliveries (§7.4).

HMAC option: ``BI-Signature = base64(HMAC-SHA256(secret, "POST.<path>.<BI-Signature-Date>.<raw
body>"))``, the date being UTC ISO-8601. Everything here fails closed: no secret, a missing or
unreadable header, a stale date or a mismatch all raise :class:`WebhookSignatureError`.
"""
import base64
import binascii
import datetime
import hashlib
import hmac

from . import const
from .errors import WebhookSignatureError

DEFAULT_TOLERANCE = datetime.timedelta(seconds=const.SIGNATURE_TOLERANCE_SECONDS)


def signed_message(path, signature_date, raw_body):
    """Return the exact bytes Powens signs: ``POST.{path}.{date}.{raw body}``.

    ``path`` is the path of the registered webhook URL, without query string.
    """
    return b'.'.join([b'POST', _to_bytes(path), _to_bytes(signature_date), bytes(raw_body)])


def sign_webhook(secret, path, signature_date, raw_body):
    """Return the ``BI-Signature`` value Powens would send (used by the sandbox and tests)."""
    digest = hmac.new(_to_bytes(secret), signed_message(path, signature_date, raw_body),
                      hashlib.sha256).digest()
    return base64.b64encode(digest).decode('ascii')


def verify_webhook_signature(secret, path, date_header, signature_header, raw_body, *, now=None,
                             tolerance=DEFAULT_TOLERANCE):
    """Check a delivery's HMAC signature and date; return the signature date (aware, UTC).

    :param secret: the ``secret_key`` of the HMAC auth provider; empty means not configured.
    :param path: path of the URL the delivery was posted to.
    :param date_header: the ``BI-Signature-Date`` header.
    :param signature_header: the ``BI-Signature`` header.
    :param raw_body: the body exactly as received (bytes), before any JSON decoding.
    :param now: current instant (naive means UTC), for tests; the real clock by default.
    :param tolerance: how far the signature date may be from now, in either direction
        (bounds replays of a captured delivery).
    :raises WebhookSignatureError: whatever the failure; the reason never holds the secret.
    """
    if not secret:
        raise WebhookSignatureError('no webhook secret configured')
    if not date_header:
        raise WebhookSignatureError(f'missing {const.SIGNATURE_DATE_HEADER} header')
    if not signature_header:
        raise WebhookSignatureError(f'missing {const.SIGNATURE_HEADER} header')
    if not isinstance(raw_body, (bytes, bytearray, memoryview)):
        raise WebhookSignatureError('the raw request body is required')
    signed_at = _parse_signature_date(date_header)
    now = now or datetime.datetime.now(datetime.timezone.utc)
    if now.tzinfo is None:
        now = now.replace(tzinfo=datetime.timezone.utc)
    if abs(now - signed_at) > tolerance:
        raise WebhookSignatureError('signature date outside the accepted window')
    try:
        received = base64.b64decode(_to_bytes(signature_header).strip(), validate=True)
    except (binascii.Error, ValueError):
        raise WebhookSignatureError('signature is not valid base64') from None
    expected = base64.b64decode(sign_webhook(secret, path, date_header, raw_body))
    if not hmac.compare_digest(expected, received):
        raise WebhookSignatureError('signature mismatch')
    return signed_at


def verify_webhook_bearer(expected_token, authorization_header):
    """Check the default authentication (``Authorization: Bearer <user token>``) in constant
    time; fails closed when no token is expected."""
    if not expected_token:
        raise WebhookSignatureError('no user token to compare with')
    scheme, _, received = (authorization_header or '').partition(' ')
    if scheme.lower() != 'bearer' or not received:
        raise WebhookSignatureError('missing bearer token')
    if not hmac.compare_digest(_to_bytes(expected_token), _to_bytes(received.strip())):
        raise WebhookSignatureError('bearer token mismatch')


def _parse_signature_date(value):
    try:
        text = value.decode('ascii') if isinstance(value, bytes) else str(value)
        signed_at = datetime.datetime.fromisoformat(text.strip())
    except (UnicodeDecodeError, ValueError):
        raise WebhookSignatureError('unreadable signature date') from None
    if signed_at.tzinfo is None:
        signed_at = signed_at.replace(tzinfo=datetime.timezone.utc)
    return signed_at.astimezone(datetime.timezone.utc)


def _to_bytes(value):
    return value if isinstance(value, bytes) else str(value).encode('utf-8')
