import logging
import secrets
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import consteq
from odoo.tools.misc import hmac

from ..const import CALLBACK_CONNECTION_EXPAND, STATE_HMAC_SCOPE, STATE_LIFETIME_SECONDS
from ..powens import PowensError, PowensNotFound
from ..powens.values import naive_utc, parse_datetime
from ..powens.webhooks import as_id

_logger = logging.getLogger(__name__)

# Powens' naive ``created`` is read as Paris time (shared/powens-api.md §12, an inference); were
# it UTC, it would read up to two hours early. The exact check is the list of connections the
# user held when the state was issued; this one only refuses what is clearly older.
CREATED_TIME_TOLERANCE = timedelta(hours=2, minutes=5)


class PowensStateError(Exception):
    """The `state` of a webview callback cannot be trusted: nothing may change. ``round_trip``
    is the genuine round trip of this user behind it, when it only came back too late."""

    def __init__(self, message, round_trip=None):
        super().__init__(message)
        self.round_trip = round_trip


class PowensWebviewState(models.Model):
    """One round trip through Powens' webview: the `state` sent with the browser comes back
    on the callback, where it must prove who started it, for which bank, and that it was not
    used before (CSRF, replay)."""

    _name = "powens.webview.state"
    _description = "Powens webview round trip"
    _rec_name = "nonce"
    _log_access = True

    nonce = fields.Char(required=True, readonly=True, copy=False)
    user_id = fields.Many2one("res.users", required=True, readonly=True, ondelete="cascade")
    journal_id = fields.Many2one("account.journal", required=True, readonly=True, ondelete="cascade")
    company_id = fields.Many2one(related="journal_id.company_id", store=True)
    flow = fields.Selection([("connect", "Connect"), ("reconnect", "Reconnect")], required=True, readonly=True)
    consent_id = fields.Many2one("powens.consent", readonly=True, ondelete="set null")
    request_id = fields.Many2one(
        "powens.connection.request",
        string="Connection request",
        readonly=True,
        ondelete="cascade",
        help="Set for a delegated connection: the request addressed to the user is what allows "
        "them, without the accounting-setup right, to connect this bank.",
    )
    powens_user_id = fields.Many2one(
        "powens.user",
        string="Powens user",
        readonly=True,
        ondelete="cascade",
        help="The Powens user the temporary code was made for: the callback's connections must be its own.",
    )
    known_connection_ids = fields.Json(
        string="Connections held before",
        readonly=True,
        help="The Powens ids of the connections that user held when the state was issued: "
        "none of them can be the connection this round trip made.",
    )
    expires_at = fields.Datetime(required=True, readonly=True)
    used_at = fields.Datetime(readonly=True)

    _nonce_unique = models.UniqueIndex("(nonce)")

    def _issue(self, journal, flow, powens_user, consent=None, connection_request=None, known_connection_ids=()):
        """Record a new round trip for the current user (for ``connection_request`` when
        delegated) through ``powens_user``, which already held ``known_connection_ids``, and
        return its signed `state`."""
        record = self.sudo().create(
            {
                "powens_user_id": powens_user.id,
                "known_connection_ids": sorted(known_connection_ids),
                "nonce": secrets.token_urlsafe(24),
                "user_id": self.env.uid,
                "journal_id": journal.id,
                "flow": flow,
                "consent_id": consent.id if consent else False,
                "request_id": connection_request.id if connection_request else False,
                "expires_at": fields.Datetime.now() + timedelta(seconds=STATE_LIFETIME_SECONDS),
            }
        )
        return f"{record.nonce}.{record._signature()}"

    def _signature(self):
        self.ensure_one()
        message = (
            f"{self.nonce}|{self.user_id.id}|{self.journal_id.id}|{self.flow}|{self.request_id.id or ''}|"
            f"{self.expires_at.isoformat()}"
        )
        return hmac(self.env(su=True), STATE_HMAC_SCOPE, message)

    def _consume(self, state):
        """Return the round trip behind ``state`` and mark it used, or raise
        :class:`PowensStateError` when it is forged, expired, replayed or someone else's."""
        nonce, _dot, signature = (state or "").partition(".")
        if not (nonce and signature):
            raise PowensStateError(self.env._("The link back from Powens is incomplete."))
        self.env.cr.execute("SELECT id FROM powens_webview_state WHERE nonce = %s FOR UPDATE", [nonce])
        row = self.env.cr.fetchone()
        record = self.sudo().browse(row[0]) if row else self.sudo()
        if not record or not consteq(record._signature(), signature):
            raise PowensStateError(self.env._("The link back from Powens is not genuine."))
        if record.user_id != self.env.user:
            raise PowensStateError(
                self.env._(
                    "This link back from Powens belongs to another user: the person who started "
                    "the connection must finish it."
                )
            )
        if record.used_at:
            raise PowensStateError(self.env._("This link back from Powens was already used."))
        if record.expires_at < fields.Datetime.now():
            raise PowensStateError(
                self.env._("This link back from Powens has expired: start the connection again."), round_trip=record
            )
        record.used_at = fields.Datetime.now()
        return record

    # --- What the round trip created ---------------------------------------------------------

    def _powens_created_connection(self, client, powens_id):
        """Powens' connection ``powens_id`` when this round trip's user created it during the
        round trip and Odoo does not record it yet, else None: held by that user (fetched with
        its token, and naming it), unknown when the state was issued, created after it
        (Powens' ``created``), recorded nowhere in Odoo."""
        self.ensure_one()
        round_trip = self.sudo()
        recorded = (
            self.env["powens.connection"]
            .sudo()
            .with_context(active_test=False)
            .search_count([("powens_id", "=", powens_id)], limit=1)
        )
        if recorded or powens_id in (round_trip.known_connection_ids or ()):
            return None
        try:
            data = client.get_connection(powens_id, expand=CALLBACK_CONNECTION_EXPAND)
        except PowensNotFound:
            return None
        if as_id(data.get("id_user")) not in (None, round_trip.powens_user_id.powens_id):
            return None
        try:
            created = naive_utc(parse_datetime(data.get("created")))
        except ValueError:
            return None
        if created and created < round_trip.create_date - CREATED_TIME_TOLERANCE:
            return None
        return data

    def _powens_discard_orphans(self, connection_ids):
        """The callback is refused: delete at Powens, best effort, the connections among
        ``connection_ids`` this round trip created and Odoo does not know, so that no bank data
        stays at Powens out of everyone's reach (GDPR); never any other. Returns how many.

        As the superuser: the person coming back may have lost the right meanwhile, and only
        what their own round trip created is touched."""
        self.ensure_one()
        try:
            client = self.sudo().powens_user_id._powens_client()
        except UserError as error:
            _logger.warning("The connections of refused Powens round trip %s cannot be reached: %s", self.id, error)
            return 0
        deleted = 0
        for powens_id in connection_ids:
            try:
                if self._powens_created_connection(client, powens_id):
                    client.delete_connection(powens_id)
                    deleted += 1
            except PowensError as error:
                _logger.warning(
                    "Connection %s of refused Powens round trip %s could not be deleted at Powens: %s",
                    powens_id,
                    self.id,
                    error,
                )
        if deleted:
            _logger.info(
                "%s connection(s) of a refused Powens callback (round trip %s) deleted at Powens", deleted, self.id
            )
        return deleted

    @api.autovacuum
    def _gc_expired(self):
        """Forget round trips finished or expired for a day: they prove nothing any more."""
        limit = fields.Datetime.now() - timedelta(days=1)
        self.sudo().search([("expires_at", "<", limit)]).unlink()
