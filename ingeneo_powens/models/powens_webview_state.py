import secrets
from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import consteq
from odoo.tools.misc import hmac

from ..const import STATE_HMAC_SCOPE, STATE_LIFETIME_SECONDS


class PowensStateError(Exception):
    """The `state` of a webview callback cannot be trusted: nothing may change."""


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
    flow = fields.Selection(
        [("connect", "Connect"), ("reconnect", "Reconnect")], required=True, readonly=True)
    consent_id = fields.Many2one("powens.consent", readonly=True, ondelete="set null")
    request_id = fields.Many2one(
        "powens.connection.request", string="Connection request", readonly=True, ondelete="cascade",
        help="Set for a delegated connection: the request addressed to the user is what allows "
        "them, without the accounting-setup right, to connect this bank.")
    expires_at = fields.Datetime(required=True, readonly=True)
    used_at = fields.Datetime(readonly=True)

    _nonce_unique = models.UniqueIndex("(nonce)")

    def _issue(self, journal, flow, consent=None, connection_request=None):
        """Record a new round trip for the current user (for ``connection_request`` when
        delegated) and return its signed `state`."""
        record = self.sudo().create({
            "nonce": secrets.token_urlsafe(24),
            "user_id": self.env.uid,
            "journal_id": journal.id,
            "flow": flow,
            "consent_id": consent.id if consent else False,
            "request_id": connection_request.id if connection_request else False,
            "expires_at": fields.Datetime.now() + timedelta(seconds=STATE_LIFETIME_SECONDS),
        })
        return f"{record.nonce}.{record._signature()}"

    def _signature(self):
        self.ensure_one()
        message = (f"{self.nonce}|{self.user_id.id}|{self.journal_id.id}|{self.flow}|{self.request_id.id or ''}|"
                   f"{self.expires_at.isoformat()}")
        return hmac(self.env(su=True), STATE_HMAC_SCOPE, message)

    def _consume(self, state):
        """Return the round trip behind ``state`` and mark it used, or raise
        :class:`PowensStateError` when it is forged, expired, replayed or someone else's."""
        nonce, _dot, signature = (state or "").partition(".")
        if not (nonce and signature):
            raise PowensStateError(self.env._("The link back from Powens is incomplete."))
        self.env.cr.execute(
            "SELECT id FROM powens_webview_state WHERE nonce = %s FOR UPDATE", [nonce])
        row = self.env.cr.fetchone()
        record = self.sudo().browse(row[0]) if row else self.sudo()
        if not record or not consteq(record._signature(), signature):
            raise PowensStateError(self.env._("The link back from Powens is not genuine."))
        if record.user_id != self.env.user:
            raise PowensStateError(self.env._(
                "This link back from Powens belongs to another user: the person who started "
                "the connection must finish it."))
        if record.used_at:
            raise PowensStateError(self.env._("This link back from Powens was already used."))
        if record.expires_at < fields.Datetime.now():
            raise PowensStateError(self.env._(
                "This link back from Powens has expired: start the connection again."))
        record.used_at = fields.Datetime.now()
        return record

    @api.autovacuum
    def _gc_expired(self):
        """Forget round trips finished or expired for a day: they prove nothing any more."""
        limit = fields.Datetime.now() - timedelta(days=1)
        self.sudo().search([("expires_at", "<", limit)]).unlink()
