"""Constants of the add-on's Odoo side (the Powens client has its own, in powens/const.py)."""

SETUP_GROUP = 'ingeneo_powens.group_accounting_setup'

# Routes Powens sends the browser and the webhooks to; whitelisted in the Powens console.
CALLBACK_ROUTE = '/powens/callback'
WEBHOOK_ROUTE = '/powens/webhook'
# What the callback reads of a connection at Powens, in one request per connection: its bank,
# its state and every account (shared or not: the holder's choice shows in `disabled`).
CALLBACK_CONNECTION_EXPAND = ('connector', 'sources', 'all_accounts')
# The web client's path the callback sends the browser back to (static/src/bank_back_from_powens.js).
BANK_BACK_PATH = 'powens-bank'

# The signed `state` of a webview round trip: scope of the HMAC keyed by the database secret,
# and how long the user has to come back (the temporary code lasts 30 minutes too).
STATE_HMAC_SCOPE = 'ingeneo_powens.webview_state'
STATE_LIFETIME_SECONDS = 30 * 60

# A delegated connection request (Option 2): the page the invited user opens from the e-mail,
# how long the request stays valid unless the company says otherwise, and its states.
REQUEST_ROUTE = '/powens/request'
# The cockpit "POWENS banks" over every company of the user (the menu, the dashboard, the digest).
COCKPIT_ROUTE = '/powens/cockpit'
REQUEST_VALIDITY_DAYS = 7
REQUEST_STATES = [
    ('sent', 'Sent'),
    ('opened', 'Opened'),
    ('consented', 'Consented'),
    ('connected', 'Connected'),
    ('declined', 'Declined'),
    ('expired', 'Expired'),
    ('cancelled', 'Cancelled'),
]
# The states in which the invited user can still act; a bank has one such request at most.
REQUEST_OPEN_STATES = ('sent', 'opened', 'consented')

# Version of the consent text shown before the webview; stored with each consent record, so
# what a person agreed to can be told afterwards.
CONSENT_TEXT_VERSION = '2026-11'

# The bank's status, as the accountant reads it on the journal.
JOURNAL_POWENS_STATES = [
    ('not_connected', 'Not connected'),
    ('waiting', 'Waiting for the first retrieval'),
    ('connected', 'Connected'),
    ('temporary', 'Temporary problem at the bank'),
    ('action_required', 'Action required'),
    ('error', 'Error'),
    ('disconnected', 'Disconnected'),
]

# --- Webhooks (shared/powens-api.md §7) -------------------------------------------------------
# A first sync of 10,000 movements of about 1 KB of JSON each weighs 10-20 MB (§7.1: "multiple
# MBs"). A body is read in memory up to this (Odoo's own limit for any request); longer, it is
# refused (413) before being read.
WEBHOOK_MAX_BODY_BYTES = 128 * 1024 * 1024
# What a gzip-encoded body may decompress to while its signature is checked, piece by piece,
# never held whole. Beyond it a delivery signed over its decoded body cannot be authenticated.
WEBHOOK_MAX_DECOMPRESSED_BYTES = 128 * 1024 * 1024
# An authenticated delivery of up to this much JSON is read and acted upon at once (about
# 8,000 movements, far above WEBHOOK_INLINE_IMPORT_MAX). Longer, it is acknowledged without
# being parsed and the scheduled retrieval, started at once, brings its content.
WEBHOOK_MAX_PARSED_BYTES = 8 * 1024 * 1024
# Powens retries an unacknowledged delivery "until it is properly accepted", by a flusher that
# stops after 10 failures and starts again at its next run, the daily sync at least (§7.1); it
# does not say whether a retry gets a new BI-Signature-Date. So a signature date this old is
# still accepted for a delivery carrying an id_webhook_data: a replay of it is a duplicate
# (below). A delivery without one must be fresh (powens.const.SIGNATURE_TOLERANCE_SECONDS).
WEBHOOK_RETRY_HORIZON_DAYS = 30
# Deliveries are remembered this long for deduplication (id_webhook_data): longer than any
# signature date accepted, so that a replayed delivery is always recognised.
WEBHOOK_EVENT_RETENTION_DAYS = WEBHOOK_RETRY_HORIZON_DAYS + 1
# Odoo books about 70 statement lines a second: a delivery carrying more movements than this
# (a first sync) is not imported while Powens waits for the answer; the scheduled retrieval
# is started at once instead, and brings the same movements.
WEBHOOK_INLINE_IMPORT_MAX = 500

# A consent ending within this many days needs someone: the cockpit's filter, the bulk
# reminder and the weekly digest agree on it.
CONSENT_EXPIRY_HORIZON_DAYS = 14
