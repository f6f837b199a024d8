"""Powens webview: URLs of the connect / reconnect / manage flows and their callback (§3).

The webview base URL is a parameter (``const.DEFAULT_WEBVIEW_URL`` in production) so a local
sandbox or an ERP override can serve it.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import quote, urlencode, urlsplit

from . import const
from .errors import WebviewError
from .urls import domain_host

# The webview serves seven languages (§3.1). Its path without one was answered by a CDN error
# in a live-tested client (pypowens 0.2.0), so every URL names one, English for the others.
WEBVIEW_FALLBACK_LANGUAGE = 'en'


@dataclass(frozen=True)
class WebviewResult:
    """What the webview appended to ``redirect_uri``.

    ``code`` is only set by a connect flow opened without a code (anonymous user): exchange it
    with ``PowensClient.exchange_code``. It is kept out of the repr, being a credential.
    """

    flow: str
    state: str | None = None
    connection_ids: tuple = ()
    code: str | None = field(default=None, repr=False)
    error: str | None = None
    error_description: str | None = None
    connection_deleted: bool | None = None

    @property
    def ok(self):
        return self.error is None

    @property
    def connection_id(self):
        return self.connection_ids[0] if self.connection_ids else None

    @property
    def cancelled(self):
        """The user left the webview on purpose."""
        return self.error == const.WEBVIEW_ERROR_CANCELLED

    @property
    def known_error(self):
        """The error is one Powens documents; any other is still an error, shown generically."""
        return self.error in const.WEBVIEW_ERROR_CODES


def build_connect_url(
    *,
    webview_url,
    domain,
    client_id,
    redirect_uri,
    code=None,
    state=None,
    lang=None,
    connector_uuids=(),
    connector_ids=(),
    connector_capabilities=(),
    account_ibans=(),
    account_types=(),
    account_usages=(),
    connector_country=None,
    max_connections=None,
    prefill=None,
):
    """URL of the connect flow (add connections).

    :param code: temporary code of an existing user; without it Powens creates an anonymous
        user and returns a code in the callback.
    :param lang: the user's language; see :func:`webview_language` (every flow takes it).
    :param max_connections: above 1 the user may add several banks in one go.
    :param prefill: ``{"<connector uuid>.<field name>": value}`` to prefill connector fields.
    """
    if max_connections is not None and (
        isinstance(max_connections, bool) or not isinstance(max_connections, int) or max_connections < 1
    ):
        raise WebviewError('max_connections must be a positive integer')
    params = {
        'code': code,
        'state': state,
        'connector_uuids': connector_uuids,
        'connector_ids': connector_ids,
        'connector_capabilities': connector_capabilities,
        'account_ibans': account_ibans,
        'account_types': account_types,
        'account_usages': account_usages,
        'connector_country': connector_country,
        'max_connections': max_connections,
    }
    params.update(prefill or {})
    return _webview_url(
        webview_url, const.FLOW_CONNECT, lang, domain, client_id, _checked_redirect_uri(redirect_uri), params
    )


def build_reconnect_url(
    *,
    webview_url,
    domain,
    client_id,
    redirect_uri,
    code,
    connection_id,
    state=None,
    lang=None,
    reset_credentials=False,
    connection_sources=(),
):
    """URL of the reconnect flow (repair a connection: SCA renewal, new password, OTP)."""
    if not code:
        raise WebviewError('The reconnect flow needs a temporary code')
    params = {
        'code': code,
        'connection_id': _checked_id(connection_id),
        'state': state,
        'reset_credentials': 'true' if reset_credentials else None,
        'connection_sources': connection_sources,
    }
    return _webview_url(
        webview_url, const.FLOW_RECONNECT, lang, domain, client_id, _checked_redirect_uri(redirect_uri), params
    )


def build_manage_url(
    *,
    webview_url,
    domain,
    client_id,
    code,
    redirect_uri=None,
    connection_id=None,
    state=None,
    lang=None,
    connector_uuids=(),
    connector_capabilities=(),
    account_types=(),
    account_usages=(),
    connector_country=None,
):
    """URL of the manage flow (add, remove, fix connections; enable or disable accounts).

    ``redirect_uri`` is optional here: when given, a close button leads to it.
    """
    if not code:
        raise WebviewError('The manage flow needs a temporary code')
    params = {
        'code': code,
        'connection_id': None if connection_id is None else _checked_id(connection_id),
        'state': state,
        'connector_uuids': connector_uuids,
        'connector_capabilities': connector_capabilities,
        'account_types': account_types,
        'account_usages': account_usages,
        'connector_country': connector_country,
    }
    redirect_uri = None if redirect_uri is None else _checked_redirect_uri(redirect_uri)
    return _webview_url(webview_url, const.FLOW_MANAGE, lang, domain, client_id, redirect_uri, params)


def parse_callback(query, flow=const.FLOW_CONNECT):
    """Read the query string the webview appended to ``redirect_uri``.

    :param query: a mapping of query parameters (values may be strings or lists of strings).
    :param flow: the flow that was opened; a connect success must name its connection(s),
        reconnect and manage successes carry only ``state``.
    :raises WebviewError: on a malformed success callback (missing or non-integer ids).
    """
    if flow not in const.WEBVIEW_FLOWS:
        raise WebviewError(f'Unknown webview flow {flow!r}')
    if not isinstance(query, Mapping):
        raise WebviewError('The callback query must be a mapping')
    state = _first(query, 'state')
    error = _first(query, 'error')
    if error:
        return WebviewResult(flow=flow, state=state, error=error, error_description=_first(query, 'error_description'))
    connection_ids = _callback_connection_ids(query)
    if flow == const.FLOW_CONNECT and not connection_ids:
        raise WebviewError('The connect callback names no connection')
    deleted = _first(query, 'connection_deleted')
    return WebviewResult(
        flow=flow,
        state=state,
        connection_ids=connection_ids,
        code=_first(query, 'code'),
        connection_deleted={'true': True, 'false': False}.get((deleted or '').lower()),
    )


def webview_language(lang):
    """The webview language for a user's language (``fr_FR``, ``fr``, ``sr@latin``, ``pl``,
    None): its own when Powens serves it, English otherwise."""
    primary = str(lang or '').replace('@', '_').replace('-', '_').split('_')[0].strip().lower()
    return primary if primary in const.WEBVIEW_LANGUAGES else WEBVIEW_FALLBACK_LANGUAGE


def _webview_url(webview_url, flow, lang, domain, client_id, redirect_uri, params):
    client_id = str(client_id or '')
    if not client_id.isdigit():
        raise WebviewError('The Powens client_id must be numeric')
    base = webview_url.rstrip('/')
    path = f'/{webview_language(lang)}/{flow}'
    query = {'domain': domain_host(domain), 'client_id': client_id, 'redirect_uri': redirect_uri}
    query.update(params)
    pairs = [(key, text) for key, value in query.items() if value is not None and (text := _text(value))]
    return f'{base}{path}?{urlencode(pairs, quote_via=quote, safe=",")}'


def _checked_redirect_uri(redirect_uri):
    """Powens requires an absolute, whitelisted URI without query string (context goes in
    ``state``); a fragment would not survive the redirect either."""
    parts = urlsplit(redirect_uri or '')
    if parts.scheme not in ('http', 'https') or not parts.netloc:
        raise WebviewError('redirect_uri must be an absolute http(s) URI')
    if parts.query or parts.fragment or redirect_uri.endswith(('?', '#')):
        raise WebviewError('redirect_uri must not carry a query string or fragment; use state')
    return redirect_uri


def _checked_id(value):
    text = str(value).strip()
    if isinstance(value, bool) or not text.isdigit() or int(text) < 1:
        raise WebviewError(f'Invalid connection id {value!r}')
    return int(text)


def _callback_connection_ids(query):
    raw = []
    for key in ('connection_id', 'connection_ids'):
        for value in _all(query, key):
            raw.extend(part.strip() for part in value.split(',') if part.strip())
    ids = []
    for value in raw:
        connection_id = _checked_id(value)
        if connection_id not in ids:
            ids.append(connection_id)
    return tuple(ids)


def _all(query, key):
    if hasattr(query, 'getlist'):  # werkzeug MultiDict: every repeated value
        return [str(item) for item in query.getlist(key)]
    value = query.get(key)
    if value is None:
        return []
    values = value if isinstance(value, (list, tuple)) else [value]
    return [str(item) for item in values]


def _first(query, key):
    values = [value.strip() for value in _all(query, key) if value.strip()]
    return values[0] if values else None


def _text(value):
    if isinstance(value, (list, tuple, set, frozenset)):
        return ','.join(str(item) for item in value)
    return str(value)
