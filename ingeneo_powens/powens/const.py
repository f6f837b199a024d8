"""Constants of the Powens API client (see shared Powens reference, sections noted inline)."""

# --- Hosts and paths (§1, §3) ---------------------------------------------------------------

API_HOST_SUFFIX = '.biapi.pro'
API_VERSION_PATH = '/2.0'
DEFAULT_WEBVIEW_URL = 'https://webview.powens.com'

PATH_AUTH_INIT = 'auth/init'
PATH_AUTH_CODE = 'auth/token/code'
PATH_AUTH_ACCESS = 'auth/token/access'
PATH_AUTH_RENEW = 'auth/renew'
PATH_ME = 'users/me'
PATH_CONNECTORS = 'connectors'
PATH_CONNECTIONS = 'users/me/connections'
PATH_ACCOUNTS = 'users/me/accounts'
PATH_TRANSACTIONS = 'users/me/transactions'

# --- Timeouts, in seconds (§4.1, §10) --------------------------------------------------------
# Plain numbers (connect and read alike), not (connect, read) pairs: Odoo's test harness, which
# wraps every outgoing request, only understands a number.

# Ordinary reads answer in well under a second; 30 s leaves room for a loaded Powens.
DEFAULT_TIMEOUT = 30
# Sync-triggering calls "usually take a few seconds" but may take "up to a few minutes".
SYNC_TIMEOUT = 180

# --- Retry policy ------------------------------------------------------------------------------

# Retries after the first attempt, so at most MAX_RETRIES + 1 calls per request.
MAX_RETRIES = 3
BACKOFF_BASE = 1.0  # seconds before the first retry, doubled at each retry
BACKOFF_MAX = 20.0  # cap of a single back-off wait
# A Retry-After longer than this is not slept through in-process (it would pin an Odoo worker):
# the request fails at once with PowensRateLimited carrying retry_after, for the caller to
# reschedule.
RETRY_AFTER_MAX = 60.0
# Not PUT: on a connection it is Powens' forced sync, one more access to the bank each time.
IDEMPOTENT_METHODS = frozenset({'GET', 'HEAD', 'DELETE', 'OPTIONS'})

# --- Transactions (§6.2) -------------------------------------------------------------------

TRANSACTIONS_MAX_LIMIT = 1000

# --- Time zone of Powens' naive datetimes (§12) ----------------------------------------------

POWENS_TIMEZONE = 'Europe/Paris'
DATETIME_FORMAT = '%Y-%m-%d %H:%M:%S'

# --- Connection states (§4.3) ----------------------------------------------------------------

STATE_GROUP_OK = 'ok'
STATE_GROUP_USER_ACTION = 'user_action'
STATE_GROUP_TRANSIENT = 'transient'
# Any state this client does not know (Powens adds values over time) and notSupported.
STATE_GROUP_ERROR = 'error'

USER_ACTION_STATES = frozenset(
    {
        'SCARequired',
        'webauthRequired',
        'additionalInformationNeeded',
        'decoupled',
        'wrongpass',
        'passwordExpired',
        'actionNeeded',
    }
)
TRANSIENT_STATES = frozenset({'validating', 'rateLimiting', 'websiteUnavailable', 'bug'})

# --- Transaction types (§6.4): older spellings mapped to the current ones -----------------

TRANSACTION_TYPES = frozenset(
    {
        'transfer',
        'order',
        'check',
        'deposit',
        'payback',
        'withdrawal',
        'loan_repayment',
        'bank',
        'card',
        'deferred_card',
        'summary_card',
        'unknown',
        'market_order',
        'market_fee',
        'arbitrage',
        'profit',
        'refund',
        'payout',
        'payment',
        'fee',
    }
)
TRANSACTION_TYPE_ALIASES = {
    'loan_payment': 'loan_repayment',
    'card_summary': 'summary_card',
}
UNKNOWN_TRANSACTION_TYPE = 'unknown'

# --- Error codes (§9.2) ------------------------------------------------------------------------

ERROR_CODE_NO_ACCOUNT = 'noAccount'
# The docs write "wrongPass" once, everything else "wrongpass".
WRONGPASS_ERROR_CODES = frozenset({'wrongpass', 'wrongPass'})

# --- Webview (§3) ------------------------------------------------------------------------------

WEBVIEW_LANGUAGES = frozenset({'en', 'fr', 'de', 'nl', 'pt', 'it', 'es'})
FLOW_CONNECT = 'connect'
FLOW_RECONNECT = 'reconnect'
FLOW_MANAGE = 'manage'
WEBVIEW_FLOWS = frozenset({FLOW_CONNECT, FLOW_RECONNECT, FLOW_MANAGE})
# Documented callback error codes (session_expired comes from the official SDK); any other
# code is still an error, handled generically.
WEBVIEW_ERROR_CODES = frozenset(
    {
        'access_denied',
        'server_error',
        'tos_declined',
        'session_expired',
    }
)
WEBVIEW_ERROR_CANCELLED = 'access_denied'

# --- Webhooks (§7.4) ---------------------------------------------------------------------------

SIGNATURE_HEADER = 'BI-Signature'
SIGNATURE_DATE_HEADER = 'BI-Signature-Date'
SIGNATURE_TOLERANCE_SECONDS = 5 * 60

# --- Log masking -------------------------------------------------------------------------------

MASK = '***'
# Keys whose values are secrets, compared case-insensitively. "code" is the temporary webview
# code, a bearer credential for 30 minutes.
SENSITIVE_KEYS = frozenset(
    {
        'auth_token',
        'access_token',
        'token',
        'code',
        'client_secret',
        'secret',
        'secret_key',
        'password',
        'authorization',
        'bi-signature',
    }
)
# Any key containing one of these is a secret as well (webhook_secret, refresh_token...).
SENSITIVE_KEY_FRAGMENTS = ('token', 'secret', 'password')
