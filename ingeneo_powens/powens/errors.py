"""Typed errors of the Powens client.

Powens asks integrators to key on the error ``code`` rather than on the HTTP status (§9.1), so
:func:`error_from_response` picks the class by code first and by status second. Messages are
built from Powens' code and description only: never from request data, so never from secrets.
"""

from . import const


class PowensError(Exception):
    """Any failure of a Powens API call.

    :param http_status: HTTP status of the answer, or None when none was received.
    :param code: Powens' machine error code (``wrongpass``, ``noAccount``...), or None.
    :param description: Powens' technical description (not for end users).
    :param message: the bank's own text, which may be shown to the end user.
    :param request_id: Powens' request identifier, to quote to Powens support.
    """

    default_reason = 'Powens API error'

    def __init__(self, reason=None, *, http_status=None, code=None, description=None, message=None, request_id=None):
        self.http_status = http_status
        self.code = code
        self.description = description
        self.message = message
        self.request_id = request_id
        super().__init__(reason or self._describe())

    def _describe(self):
        parts = [self.default_reason]
        if self.http_status is not None:
            parts.append(f'(HTTP {self.http_status})')
        if self.code:
            parts.append(f'[{self.code}]')
        if self.description:
            parts.append(f': {self.description}')
        if self.request_id is not None:
            parts.append(f'(request {self.request_id})')
        return ' '.join(parts)


class PowensAuthError(PowensError):
    """The token is missing, invalid, expired or too narrow (401/403)."""

    default_reason = 'Powens refused the credentials'


class PowensNotFound(PowensError):
    """The resource does not exist or is not visible with this token (404)."""

    default_reason = 'Powens resource not found'


class PowensNoAccount(PowensError):
    """No bank account is enabled on the user (code noAccount, 400 or 409 depending on source)."""

    default_reason = 'No enabled bank account at Powens'


class PowensWrongPass(PowensError):
    """The bank credentials are wrong; only the reconnect webview can fix it."""

    default_reason = 'Bank credentials refused'


class PowensRateLimited(PowensError):
    """Too many calls (429). ``retry_after`` is the wait Powens asked for, in seconds, or None."""

    default_reason = 'Powens rate limit reached'

    def __init__(self, reason=None, *, retry_after=None, **kwargs):
        self.retry_after = retry_after
        super().__init__(reason, **kwargs)


class PowensServerError(PowensError):
    """Powens failed or is in maintenance (5xx)."""

    default_reason = 'Powens server error'


class PowensConnectionError(PowensError):
    """No answer: the connection failed, was dropped or timed out."""

    default_reason = 'Could not reach Powens'


class PowensTimeout(PowensConnectionError):
    """Powens did not answer within the timeout."""

    default_reason = 'Powens did not answer in time'


class PowensBadResponse(PowensError):
    """The answer cannot be used: not JSON, truncated, wrong shape, or an unsafe link."""

    default_reason = 'Unusable answer from Powens'


class WebhookSignatureError(Exception):
    """A webhook delivery failed authentication; ``reason`` says why (never the secret)."""

    def __init__(self, reason):
        self.reason = reason
        super().__init__(f'Webhook signature refused: {reason}')


class WebviewError(ValueError):
    """A webview URL cannot be built, or a webview callback is malformed."""


def error_from_response(http_status, body, *, retry_after=None):
    """Build the typed error matching an error answer.

    :param body: the decoded JSON body, or None when it was not JSON.
    """
    body = body if isinstance(body, dict) else {}
    fields = {
        'http_status': http_status,
        'code': _text_or_none(body.get('code')),
        'description': _text_or_none(body.get('description')),
        'message': _text_or_none(body.get('message')),
        'request_id': body.get('request_id', body.get('requestId')),
    }
    code = fields['code']
    if code == const.ERROR_CODE_NO_ACCOUNT:
        return PowensNoAccount(**fields)
    if code in const.WRONGPASS_ERROR_CODES:
        return PowensWrongPass(**fields)
    if http_status == 429:
        return PowensRateLimited(retry_after=retry_after, **fields)
    if http_status in (401, 403):
        return PowensAuthError(**fields)
    if http_status == 404:
        return PowensNotFound(**fields)
    if http_status >= 500:
        return PowensServerError(**fields)
    return PowensError(**fields)


def _text_or_none(value):
    return None if value is None else str(value)
