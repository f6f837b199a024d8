"""HTTP client of the Powens REST API 2.0 (pure Python, no ORM).

Every call goes through :meth:`PowensClient._request`, which owns timeouts, retries, error
typing and logging.

Retry policy:

- 429 is always retried (Powens refused the call before doing anything), after Retry-After
  (seconds or HTTP date) when given, else after the back-off; a Retry-After longer than
  ``retry_after_max`` fails at once with :class:`PowensRateLimited` so a worker is not pinned.
- 5xx, timeouts, dropped connections and unusable bodies are retried for idempotent calls
  only (GET, DELETE, and the POSTs that merely set values). A call that may have reached
  Powens and is not idempotent is not retried: ``auth/init`` would create a second user, an
  exchanged code or an OTP is single-use, and a forced sync (``PUT`` on a connection) makes
  Powens reach the bank again, which Powens' fair-use policy and PSD2's four unattended
  accesses a day forbid doing on our own. Such a call is retried only when it provably never
  left (connect timeout, connection refused).
- 401 (the user token was revoked or expired): when the client knows the user and may renew
  its token, it asks ``/auth/renew`` for a new one once, hands it to ``on_token_renewed``
  (which keeps it) and sends the call again; the 401 is raised only when renewal fails.
- Other 4xx are never retried. Waits grow exponentially (``backoff * 2**n``, capped at
  ``backoff_max``) for at most ``max_retries`` retries.
"""

import datetime
import email.utils
import logging
import time
import unicodedata
from urllib.parse import urlencode, urljoin, urlsplit

import requests
from urllib3.exceptions import NewConnectionError

from . import const
from .errors import (
    PowensAuthError,
    PowensBadResponse,
    PowensConnectionError,
    PowensError,
    PowensRateLimited,
    PowensServerError,
    PowensTimeout,
    error_from_response,
)
from .masking import SecretMaskingFilter, mask
from .urls import origin
from .values import format_date_filter, format_datetime

_logger = logging.getLogger(__name__)
_logger.addFilter(SecretMaskingFilter())

LOGGED_BODY_MAX_CHARS = 2000
# Failures of the network or of Powens' end; anything else (a malformed URL) is a local bug.
_NETWORK_FAILURES = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError)


class TransactionPage(list):
    """One page of transactions, with the instant Powens served it (its clock, aware UTC,
    from the answer's Date header; None when absent): an incremental pull that started
    there has seen every change stamped before it."""

    def __init__(self, transactions, served_at):
        super().__init__(transactions)
        self.served_at = served_at


class PowensClient:
    """Client of one Powens domain, optionally bound to one user's permanent token.

    :param api_url: API root, e.g. ``https://acme.biapi.pro/2.0`` (see ``urls.api_url_for_domain``).
    :param client_id: client application ID, needed by ``init_user``/``exchange_code``.
    :param client_secret: client application secret, same use.
    :param token: the user's permanent access token, sent as ``Authorization: Bearer``.
    :param session: a ``requests.Session`` to reuse connections; a new one by default.
    :param timeout: seconds for ordinary calls.
    :param sync_timeout: seconds for calls that make Powens talk to the bank.
    :param sleep: the waiting function, replaceable so tests record waits instead of sleeping.
    :param user_id: the Powens user the token belongs to; with ``on_token_renewed``, a 401 is
        answered by renewing the token through ``/auth/renew``.
    :param on_token_renewed: called with the new token after a renewal, to store it.
    """

    def __init__(
        self,
        api_url,
        *,
        client_id=None,
        client_secret=None,
        token=None,
        session=None,
        timeout=const.DEFAULT_TIMEOUT,
        sync_timeout=const.SYNC_TIMEOUT,
        max_retries=const.MAX_RETRIES,
        backoff=const.BACKOFF_BASE,
        backoff_max=const.BACKOFF_MAX,
        retry_after_max=const.RETRY_AFTER_MAX,
        sleep=time.sleep,
        user_id=None,
        on_token_renewed=None,
    ):
        self.api_url = api_url.rstrip('/') + '/'
        self.client_id = client_id
        self.client_secret = client_secret
        self.token = token
        self.session = session or requests.Session()
        self.timeout = timeout
        self.sync_timeout = sync_timeout
        self.max_retries = max_retries
        self.backoff = backoff
        self.backoff_max = backoff_max
        self.retry_after_max = retry_after_max
        self.sleep = sleep
        self.user_id = user_id
        self.on_token_renewed = on_token_renewed
        self.served_at = None  # Powens' clock at its latest answer, see TransactionPage

    def __repr__(self):
        return f'<PowensClient {self.api_url} client_id={self.client_id}>'

    def with_token(self, token, *, user_id=None, on_token_renewed=None):
        """Return a client for the same domain and settings, bound to another user token
        (of ``user_id``, renewed on a 401 when ``on_token_renewed`` is given)."""
        clone = object.__new__(type(self))
        clone.__dict__.update(self.__dict__, token=token, user_id=user_id, on_token_renewed=on_token_renewed)
        return clone

    # --- Authentication and users (§2) ---------------------------------------------------------

    def init_user(self):
        """Create a Powens user and return its AuthToken (``auth_token``, ``id_user``...).

        Both client credentials are required, otherwise Powens returns a temporary token whose
        user vanishes after 30 minutes.
        """
        body = self._request('POST', const.PATH_AUTH_INIT, json=self._client_credentials(), auth=False)
        return _require_keys(body, 'auth_token')

    def get_temporary_code(self, code_type='singleAccess'):
        """Return an AuthCode (``code``, ``expires_in``...) to open the webview without exposing
        the permanent token; ``singleAccess`` (the default) is consumed by its first use,
        ``requestAccess`` lasts 30 minutes."""
        body = self._request('GET', const.PATH_AUTH_CODE, params={'type': code_type})
        return _require_keys(body, 'code')

    def exchange_code(self, code):
        """Turn the temporary ``code`` of a webview callback into a permanent token
        (``{"access_token", "token_type"}``)."""
        payload = dict(self._client_credentials(), code=code, grant_type='authorization_code')
        body = self._request('POST', const.PATH_AUTH_ACCESS, json=payload, auth=False)
        return _require_keys(body, 'access_token')

    def renew_token(self, user_id, *, revoke_previous=False):
        """Make a new permanent token for an existing user, the recovery path of a lost token."""
        payload = dict(
            self._client_credentials(),
            grant_type='client_credentials',
            id_user=int(user_id),
            revoke_previous=bool(revoke_previous),
        )
        body = self._request('POST', const.PATH_AUTH_RENEW, json=payload, auth=False)
        return _require_keys(body, 'access_token')

    def get_me(self):
        """Return the User owning the token (``id``, ``signin``)."""
        return self._request('GET', const.PATH_ME)

    def delete_me(self):
        """Delete the user and all its connections and data at Powens (GDPR hard delete)."""
        self._request('DELETE', const.PATH_ME)

    # --- Connectors (§8) -----------------------------------------------------------------------

    def list_connectors(self, *, search=None, capabilities=None, country_codes=None, expand=None):
        """Return the connectors (banks) of the domain, a call that needs no token.

        Powens filters by country only; ``search`` (part of the name, regardless of case and
        accents) and ``capabilities`` (all required) are applied here.
        """
        body = self._request(
            'GET', const.PATH_CONNECTORS, auth=False, params={'country_codes': country_codes, 'expand': expand}
        )
        connectors = _list_from(body, 'connectors', 'banks', 'providers')
        needle = _folded(search or '')
        required = set(_as_list(capabilities))
        return [
            connector
            for connector in connectors
            if needle in _folded(str(connector.get('name') or ''))
            and required.issubset(connector.get('capabilities') or ())
        ]

    # --- Connections (§4) ----------------------------------------------------------------------

    def list_connections(self, *, expand=None):
        """Return the user's connections (``expand`` e.g. ``('accounts', 'sources')``)."""
        body = self._request('GET', const.PATH_CONNECTIONS, params={'expand': expand})
        return _list_from(body, 'connections')

    def get_connection(self, connection_id, *, expand=None):
        """Return one connection."""
        return self._request('GET', _connection_path(connection_id), params={'expand': expand})

    def sync_connection(self, connection_id, *, psu_requested=True, expand=None):
        """Force a sync with the bank now and return the connection.

        PUT is the documented "sync" verb (§4.1); POST means "update" on connections. Only for
        a user who asked for fresh data (``psu_requested``, Powens may then ask them for a
        strong authentication): Powens' fair-use policy refuses forced syncs in bulk. Never
        resent once it may have reached Powens: each one is an access to the bank.
        """
        return self._request(
            'PUT',
            _connection_path(connection_id),
            timeout=self.sync_timeout,
            params={'psu_requested': bool(psu_requested), 'expand': expand},
            idempotent=False,
        )

    def update_connection(self, connection_id, **fields):
        """Update a connection (``active``, ``expire``, ``refresh_auth``...) and return it.

        Not retried once sent: some fields (an OTP) are single-use.
        """
        return self._request('POST', _connection_path(connection_id), json=fields, timeout=self.sync_timeout)

    def delete_connection(self, connection_id):
        """Delete a connection and all its data at Powens (hard delete)."""
        self._request('DELETE', _connection_path(connection_id))

    # --- Bank accounts (§5) --------------------------------------------------------------------

    def list_accounts(self, connection_id=None, *, include_disabled=True, expand=None):
        """Return the user's bank accounts, or one connection's.

        Disabled accounts (newly found ones await consent) are listed by default (``?all``).
        """
        path = const.PATH_ACCOUNTS
        if connection_id is not None:
            path = f'{_connection_path(connection_id)}/accounts'
        body = self._request('GET', path, params={'expand': expand}, flags=_all_flag(include_disabled))
        return _list_from(body, 'accounts')

    # --- Transactions (§6) ---------------------------------------------------------------------

    def get_transaction(self, transaction_id):
        """Return one transaction, a deleted one too (``?all``): a movement refused earlier is
        read again this way."""
        return self._request('GET', f'{const.PATH_TRANSACTIONS}/{int(transaction_id)}', flags=('all',))

    def iter_transaction_pages(
        self,
        account_id=None,
        *,
        last_update=None,
        min_date=None,
        max_date=None,
        date_filter=None,
        include_deleted=True,
        limit=const.TRANSACTIONS_MAX_LIMIT,
    ):
        """Yield the transactions one :class:`TransactionPage` at a time, following
        ``_links.next``; the first page may be empty.

        Only one page is held at a time, so memory stays flat whatever the number of pages;
        a caller that commits per page can move its cursor page by page.

        :param last_update: only transactions changed after this instant (the incremental
            key); an aware or naive-UTC datetime, or a Powens text passed as given.
        :param min_date: lower bound (date or ``YYYY-MM-DD``/``YYYY-MM``/``YYYY`` text).
        :param max_date: upper bound, same forms.
        :param date_filter: field the bounds apply to, ``application_date`` (Powens' default)
            or ``date``.
        :param include_deleted: send ``?all`` so deleted transactions come back too.
        :param limit: page size, 1 to 1000.
        """
        if not 1 <= limit <= const.TRANSACTIONS_MAX_LIMIT:
            raise ValueError(f'limit must be between 1 and {const.TRANSACTIONS_MAX_LIMIT}')
        path = const.PATH_TRANSACTIONS
        if account_id is not None:
            path = f'{_account_path(account_id)}/transactions'
        if isinstance(last_update, datetime.datetime):
            last_update = format_datetime(last_update)
        params = {
            'limit': limit,
            'last_update': last_update,
            'min_date': None if min_date is None else format_date_filter(min_date),
            'max_date': None if max_date is None else format_date_filter(max_date),
            'filter': date_filter,
        }
        flags = _all_flag(include_deleted)
        url = self._url(path, params, flags)
        offset = 0
        previous_first_id = None
        while url:
            body = self._request('GET', url)
            transactions = body.get('transactions') if isinstance(body, dict) else None
            if not isinstance(transactions, list):
                raise PowensBadResponse('Powens transaction page without a transactions list')
            first_id = transactions[0].get('id') if transactions and isinstance(transactions[0], dict) else None
            if first_id is not None and first_id == previous_first_id:
                raise PowensBadResponse('Powens returned the same transaction page twice')
            previous_first_id = first_id
            # Even an empty page is yielded: it still tells when Powens answered.
            yield TransactionPage(transactions, self.served_at)
            if not transactions:
                return
            if '_links' in body:
                url = self._on_api_root(_next_link(body))
            elif len(transactions) < limit:
                url = None
            else:
                # No relational links (older API): page with offset until a short page.
                offset += len(transactions)
                url = self._url(path, dict(params, offset=offset), flags)
            # Let this page go before the next one arrives: one page in memory, not two.
            del body, transactions

    # --- The request helper --------------------------------------------------------------------

    def _request(self, method, path, *, params=None, flags=(), json=None, auth=True, timeout=None, idempotent=None):
        """Send one Powens call with retries and return its decoded JSON (None when empty).

        :param path: a path under the API root, or an absolute link given by Powens (which
            must share the API's origin, so a hostile link cannot carry the token away).
        :param flags: value-less query flags such as ``all``.
        :param auth: send the user token.
        :param idempotent: whether a call that may have reached Powens can be sent again;
            by default true for reads and DELETE (see IDEMPOTENT_METHODS).
        """
        url = self._url(path, params, flags)
        if origin(url) != origin(self.api_url):
            raise PowensBadResponse('Powens link outside the API origin refused')
        if idempotent is None:
            idempotent = method in const.IDEMPOTENT_METHODS
        headers = {'Accept': 'application/json'}
        if auth:
            if not self.token:
                raise PowensAuthError('No Powens user token configured')
            headers['Authorization'] = f'Bearer {self.token}'
        timeout = timeout or self.timeout
        _logger.debug('Powens request %s %s %s', method, url, json)
        retry = 0
        renewed = False
        while True:
            started = time.monotonic()
            try:
                response = self.session.request(
                    method, url, json=json, headers=headers, timeout=timeout, allow_redirects=False
                )
            except requests.RequestException as exc:
                error = _connection_error(exc)
                retryable = isinstance(exc, _NETWORK_FAILURES) and (idempotent or _never_sent(exc))
            else:
                _log_response(method, url, response, time.monotonic() - started)
                try:
                    body = _decode(response)
                    self.served_at = parse_http_date(response.headers.get('Date'))
                    return body
                except PowensRateLimited as exc:
                    error, retryable = exc, True
                except (PowensServerError, PowensBadResponse) as exc:
                    error, retryable = exc, idempotent
                except PowensAuthError as exc:
                    # Powens refused the token before doing anything: a renewed one may be
                    # sent again, whatever the method.
                    if not auth or renewed or exc.http_status != 401 or not self._renew_token():
                        raise
                    renewed = True
                    headers['Authorization'] = f'Bearer {self.token}'
                    continue
            delay = self._retry_delay(error, retry) if retryable else None
            if delay is None:
                raise error
            retry += 1
            _logger.warning(
                'Powens %s %s failed (%s); retry %d of %d in %.1f s', method, url, error, retry, self.max_retries, delay
            )
            self.sleep(delay)

    def _renew_token(self):
        """Get a new token for the user through ``/auth/renew`` and hand it to
        ``on_token_renewed``; False when this client cannot renew or Powens refused."""
        if not (self.user_id and self.on_token_renewed and self.client_id and self.client_secret):
            return False
        try:
            token = self.renew_token(self.user_id)['access_token']
        except PowensError as error:
            _logger.warning('Powens refused to renew the token of user %s: %s', self.user_id, error)
            return False
        _logger.info('Powens token of user %s renewed after a 401', self.user_id)
        self.token = token
        self.on_token_renewed(token)
        return True

    def _retry_delay(self, error, retry):
        """Return the wait before retry number ``retry + 1``, or None to give up."""
        if retry >= self.max_retries:
            return None
        retry_after = getattr(error, 'retry_after', None)
        if retry_after is not None:
            return retry_after if retry_after <= self.retry_after_max else None
        return min(self.backoff_max, self.backoff * 2**retry)

    def _url(self, path, params=None, flags=()):
        url = urljoin(self.api_url, path)
        pairs = [(key, _query_value(value)) for key, value in (params or {}).items() if value is not None]
        query = '&'.join(filter(None, [urlencode(pairs, safe=','), *flags]))
        if not query:
            return url
        return f'{url}&{query}' if '?' in url else f'{url}?{query}'

    def _on_api_root(self, href):
        """Powens' opaque link, sent to the configured API root whatever that is (Powens itself,
        a proxy, the sandbox): as given when it is under that root, else its path after the API
        version and its query re-based there. Powens writes its links on its own host, which
        differs from a proxy's; the token never goes anywhere but the configured origin."""
        if href is None:
            return None
        url = urljoin(self.api_url, href)
        if origin(url) == origin(self.api_url) and urlsplit(url).path.startswith(urlsplit(self.api_url).path):
            return url
        parts = urlsplit(url)
        version = const.API_VERSION_PATH + '/'
        if version not in parts.path:
            raise PowensBadResponse('Powens next link outside the API refused')
        relative = parts.path.split(version, 1)[1]
        return urljoin(self.api_url, relative) + (f'?{parts.query}' if parts.query else '')

    def _client_credentials(self):
        if not (self.client_id and self.client_secret):
            raise PowensAuthError('Powens client_id and client_secret are required')
        return {'client_id': str(self.client_id), 'client_secret': self.client_secret}


# --- Response handling ---------------------------------------------------------------------


def _decode(response):
    """Return the JSON of a 2xx answer (None when empty), raise the typed error otherwise."""
    status = response.status_code
    if 200 <= status < 300:
        if status == 204 or not response.content.strip():
            return None
        try:
            return response.json()
        except ValueError:
            raise PowensBadResponse('Powens answered with a body that is not valid JSON', http_status=status) from None
    try:
        body = response.json()
    except ValueError:
        body = None
    retry_after = parse_retry_after(response.headers.get('Retry-After')) if status == 429 else None
    raise error_from_response(status, body, retry_after=retry_after)


def parse_retry_after(value, *, now=None):
    """Return a Retry-After header (delay in seconds or HTTP date) as seconds, None if absent
    or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    moment = parse_http_date(value)
    if moment is None:
        return None
    now = now or datetime.datetime.now(datetime.UTC)
    return max(0.0, (moment - now).total_seconds())


def parse_http_date(value):
    """Return an HTTP date header as an aware UTC datetime, None if absent or unreadable."""
    if not value:
        return None
    try:
        moment = email.utils.parsedate_to_datetime(value.strip())
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment.astimezone(datetime.UTC)


def _connection_error(exc):
    error_class = PowensTimeout if isinstance(exc, requests.Timeout) else PowensConnectionError
    error = error_class(f'{error_class.default_reason} ({type(exc).__name__})')
    error.__cause__ = exc
    return error


def _never_sent(exc):
    """Tell whether a failure happened before the request left, so even a POST can be resent."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = getattr(exc.args[0], 'reason', None) if exc.args else None
    return isinstance(reason, NewConnectionError)


def _log_response(method, url, response, elapsed):
    _logger.debug('Powens response %s %s -> %s in %.2f s', method, url, response.status_code, elapsed)
    if _logger.isEnabledFor(logging.DEBUG):
        # Masked before truncation: a cut JSON string would escape the masking patterns.
        _logger.debug('Powens response body: %s', mask(response.text)[:LOGGED_BODY_MAX_CHARS])


def _next_link(body):
    """Return ``_links.next.href`` (opaque, used as given), or None on the last page."""
    links = body.get('_links') or {}
    next_link = links.get('next') if isinstance(links, dict) else None
    if not next_link:
        return None
    href = next_link.get('href') if isinstance(next_link, dict) else None
    if not isinstance(href, str) or not href:
        raise PowensBadResponse('Powens next link without href')
    return href


def _require_keys(body, *keys):
    if not isinstance(body, dict) or any(not body.get(key) for key in keys):
        raise PowensBadResponse(f'Powens answer lacks {", ".join(keys)}')
    return body


def _list_from(body, *keys):
    """Return the list of a list answer, tolerating the legacy keys and a bare list."""
    if isinstance(body, list):
        return body
    if isinstance(body, dict):
        for key in keys:
            if isinstance(body.get(key), list):
                return body[key]
    raise PowensBadResponse(f'Powens answer lacks a {keys[0]} list')


# --- Small builders ------------------------------------------------------------------------


def _connection_path(connection_id):
    return f'{const.PATH_CONNECTIONS}/{int(connection_id)}'


def _account_path(account_id):
    return f'{const.PATH_ACCOUNTS}/{int(account_id)}'


def _all_flag(enabled):
    return ('all',) if enabled else ()


def _as_list(value):
    if value is None:
        return []
    if isinstance(value, str):
        return [part for part in value.split(',') if part]
    return list(value)


def _folded(text):
    """``text`` without case nor accents: "societe" finds "Société Générale"."""
    decomposed = unicodedata.normalize('NFKD', text)
    return ''.join(char for char in decomposed if not unicodedata.combining(char)).casefold()


def _query_value(value):
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, (list, tuple, set, frozenset)):
        return ','.join(str(item) for item in value)
    return str(value)
