"""Authentication of Powens webhook deliveries (§7.4).

HMAC option: ``BI-Signature = base64(HMAC-SHA256(secret, "POST.<path>.<BI-Signature-Date>.<raw
body>"))``, the date being UTC ISO-8601. Whether ``<raw body>`` is a gzip-encoded body as sent
or decoded is not documented: :class:`SignatureCheck` accepts either. Everything here fails
closed: no secret, a missing or unreadable header, a stale date or a mismatch all raise
:class:`WebhookSignatureError`.
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
    digest = hmac.new(_to_bytes(secret), signed_message(path, signature_date, raw_body), hashlib.sha256).digest()
    return base64.b64encode(digest).decode('ascii')


def check_signature_date(date_header, signature_header, *, max_age, max_ahead=DEFAULT_TOLERANCE, now=None):
    """The cheap check, before anything of the body is read: both headers present and the
    signature date no older than ``max_age`` and no further ahead than ``max_ahead``; return
    the signature date (aware, UTC).

    :raises WebhookSignatureError: whatever the failure.
    """
    if not date_header:
        raise WebhookSignatureError(f'missing {const.SIGNATURE_DATE_HEADER} header')
    if not signature_header:
        raise WebhookSignatureError(f'missing {const.SIGNATURE_HEADER} header')
    signed_at = _parse_signature_date(date_header)
    now = now or datetime.datetime.now(datetime.UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=datetime.UTC)
    if not -max_ahead <= now - signed_at <= max_age:
        raise WebhookSignatureError('signature date outside the accepted window')
    return signed_at


class SignatureCheck:
    """The HMAC of one delivery, computed while its body goes by, for each candidate secret:
    the body is never kept to be checked.

    Two messages per secret: one over the body as sent, one over the body as decoded (gunzipped).
    Powens does not document which of the two it signs when it compresses (§7.4), so either
    proves the delivery; for a body sent uncompressed, both are the same bytes and only the first
    is computed.
    """

    def __init__(self, secrets, path, date_header, signature_header):
        """:raises WebhookSignatureError: the signature is not base64 of a SHA-256 digest."""
        try:
            self._received = base64.b64decode(_to_bytes(signature_header).strip(), validate=True)
        except (binascii.Error, ValueError):
            raise WebhookSignatureError('signature is not valid base64') from None
        if len(self._received) != hashlib.sha256().digest_size:
            raise WebhookSignatureError('signature is not a SHA-256 digest')
        prefix = signed_message(path, date_header, b'')  # "POST.<path>.<date>."
        self._prefixed = {secret: hmac.new(_to_bytes(secret), prefix, hashlib.sha256) for secret in secrets if secret}
        self._as_sent = {secret: mac.copy() for secret, mac in self._prefixed.items()}
        self._as_decoded = {}

    def update_as_sent(self, data):
        for mac in self._as_sent.values():
            mac.update(data)

    def start_decoded(self):
        """The body is encoded: from now on, also compute the HMAC of its decoded bytes."""
        self._as_decoded = {secret: mac.copy() for secret, mac in self._prefixed.items()}

    def update_decoded(self, data):
        for mac in self._as_decoded.values():
            mac.update(data)

    def abandon_decoded(self):
        """The decoded body cannot be gone through (beyond the cap, not gzip): only the body as
        sent can still prove the delivery."""
        self._as_decoded = {}

    def matching_secrets(self):
        """The secrets whose HMAC, over the body as sent or as decoded, equals the signature."""
        return {
            secret
            for macs in (self._as_sent, self._as_decoded)
            for secret, mac in macs.items()
            if hmac.compare_digest(mac.digest(), self._received)
        }


def _parse_signature_date(value):
    try:
        text = value.decode('ascii') if isinstance(value, bytes) else str(value)
        signed_at = datetime.datetime.fromisoformat(text.strip())
    except (UnicodeDecodeError, ValueError):
        raise WebhookSignatureError('unreadable signature date') from None
    if signed_at.tzinfo is None:
        signed_at = signed_at.replace(tzinfo=datetime.UTC)
    return signed_at.astimezone(datetime.UTC)


def _to_bytes(value):
    return value if isinstance(value, bytes) else str(value).encode('utf-8')
