from datetime import timedelta

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import format_datetime

from ..const import REQUEST_OPEN_STATES, REQUEST_ROUTE, REQUEST_STATES, REQUEST_VALIDITY_DAYS, SETUP_GROUP

MAIL_TEMPLATE = "ingeneo_powens.mail_template_powens_connection_request"


class PowensConnectionRequest(models.Model):
    """A delegated connection (Option 2): the accountant asks the ERP user who holds the bank
    credentials to connect the bank. The request is that user's only authorisation: they
    hold no accounting right, and act on this bank only through it, while it is open."""

    _name = "powens.connection.request"
    _inherit = ["mail.thread"]
    _description = "Powens connection request"
    _order = "sent_at desc, id desc"
    # The invited user may ask the requester a question in the chatter, with a read access only.
    _mail_post_access = "read"

    journal_id = fields.Many2one(
        "account.journal", string="Bank", required=True, readonly=True, index=True, ondelete="cascade"
    )
    company_id = fields.Many2one(related="journal_id.company_id", store=True, index=True)
    requester_id = fields.Many2one(
        "res.users",
        string="Requested by",
        required=True,
        readonly=True,
        ondelete="restrict",
        default=lambda self: self.env.user,
    )
    invited_user_id = fields.Many2one(
        "res.users", string="Sent to", required=True, readonly=True, index=True, ondelete="restrict"
    )
    state = fields.Selection(REQUEST_STATES, required=True, default="sent", readonly=True, tracking=True)
    email_to = fields.Char(
        string="E-mail sent to",
        readonly=True,
        help="The address the request went to, as it was in the user's profile. Empty: the user "
        "has no address and was notified in the INGENEO inbox only.",
    )
    sent_at = fields.Datetime(string="Sent on", readonly=True, default=fields.Datetime.now)
    opened_at = fields.Datetime(string="Opened on", readonly=True)
    consented_at = fields.Datetime(string="Consented on", readonly=True)
    connected_at = fields.Datetime(string="Connected on", readonly=True)
    closed_at = fields.Datetime(
        string="Closed on", readonly=True, help="When it was declined, cancelled or found expired."
    )
    expires_at = fields.Datetime(
        string="Valid until",
        required=True,
        readonly=True,
        default=lambda self: self._expiry_from(fields.Datetime.now(), self.env.company),
    )
    consent_id = fields.Many2one("powens.consent", readonly=True, ondelete="restrict")
    consent_text = fields.Text(compute="_compute_consent_text", string="What you agree to")
    request_url = fields.Char(string="Link to the request", compute="_compute_request_url")
    is_invited_user = fields.Boolean(string="Addressed to me", compute="_compute_user_role")
    can_manage = fields.Boolean(string="Managed by me", compute="_compute_user_role")

    _one_open_request_per_bank = models.UniqueIndex(
        "(journal_id) WHERE state IN ('sent', 'opened', 'consented')",
        "This bank already has an open connection request: send it again or cancel it.",
    )

    @api.model
    def _expiry_from(self, sent_at, company):
        """When a request sent at ``sent_at`` lapses: the company's validity (7 days unless set)."""
        return sent_at + timedelta(days=company.sudo().powens_request_validity_days or REQUEST_VALIDITY_DAYS)

    @api.depends("journal_id")
    def _compute_display_name(self):
        for connection_request in self:
            connection_request.display_name = self.env._(
                "Connection of the bank %(bank)s", bank=connection_request.journal_id.sudo().name
            )

    @api.depends("consent_id", "company_id")
    def _compute_consent_text(self):
        for connection_request in self:
            connection_request.consent_text = connection_request.consent_id.sudo().consent_text or self.env[
                "powens.consent"
            ]._text_for(connection_request.company_id)

    def _compute_request_url(self):
        for connection_request in self:
            connection_request.request_url = (
                f"{connection_request.get_base_url()}{REQUEST_ROUTE}/{connection_request.id}"
            )

    @api.depends_context("uid")
    def _compute_user_role(self):
        can_manage = self.env.user.has_group(SETUP_GROUP)
        for connection_request in self:
            connection_request.is_invited_user = connection_request.invited_user_id == self.env.user
            connection_request.can_manage = can_manage and connection_request.company_id in self.env.user.company_ids

    # --- The accountant's side --------------------------------------------------------------

    @api.model
    def _send(self, journal, user):
        """Send ``journal``'s connection request to ``user``. The bank's open request is sent
        again when it is addressed to ``user`` already, and replaced otherwise: never two."""
        journal._powens_check_can_connect()
        journal.ensure_one()
        if journal.powens_account_id and journal.powens_state != "disconnected":
            raise UserError(self.env._("This bank is already connected to Powens."))
        if user.share or not user.active or journal.company_id not in user.company_ids:
            raise UserError(
                self.env._(
                    "%(user)s is not an internal user of %(company)s.", user=user.name, company=journal.company_id.name
                )
            )
        now = fields.Datetime.now()
        delivery = {
            "requester_id": self.env.uid,
            "sent_at": now,
            "expires_at": self._expiry_from(now, journal.company_id),
            "email_to": user.email or False,
        }
        open_request = self.sudo().search([("journal_id", "=", journal.id), ("state", "in", REQUEST_OPEN_STATES)])
        if open_request.invited_user_id == user:
            connection_request = open_request
            connection_request.write(delivery)
        else:
            open_request._close("cancelled", self.env._("Replaced by a request sent to %(user)s.", user=user.name))
            open_request.flush_recordset(["state"])  # out of the unique index before the new one enters
            connection_request = self.sudo().create({**delivery, "journal_id": journal.id, "invited_user_id": user.id})
            connection_request.message_subscribe(partner_ids=(self.env.user | user).partner_id.ids)
        connection_request._deliver()
        return connection_request.sudo(False)

    def _deliver(self):
        """E-mail the invited user (when their profile has an address) and notify them in the
        INGENEO inbox, both with the link to the request."""
        self.ensure_one()
        if self.email_to:
            self.env.ref(MAIL_TEMPLATE).send_mail(self.id)
        self._notify(
            self.invited_user_id,
            Markup("%s <a href='%s'>%s</a>")
            % (
                self.env._(
                    "%(requester)s asks you to connect the bank %(bank)s of %(company)s to INGENEO.",
                    requester=self.requester_id.name,
                    bank=self.journal_id.name,
                    company=self.company_id.name,
                ),
                self.request_url,
                self.env._("Open the request"),
            ),
        )

    def action_resend(self):
        """Send again: the same request while it is open, a new one after it closed."""
        for connection_request in self:
            connection_request.company_id._powens_check_setup_right()
            self._send(connection_request.journal_id, connection_request.invited_user_id)
        return True

    def action_cancel(self):
        for connection_request in self:
            connection_request.company_id._powens_check_setup_right()
            if connection_request.state not in REQUEST_OPEN_STATES:
                raise UserError(self.env._("Only an open request can be cancelled."))
        self.sudo()._close("cancelled", self.env._("Cancelled by %(user)s.", user=self.env.user.name))
        return True

    # --- The invited user's side ------------------------------------------------------------

    def _check_invited(self, journal=None):
        """Refuse unless the current user is the one invited, for ``journal`` when given, and
        the request still open: every step of the invited user starts here."""
        self.ensure_one()
        if self.invited_user_id != self.env.user or (journal is not None and self.journal_id != journal):
            raise AccessError(self.env._("This connection request is not addressed to you."))
        if self.state not in REQUEST_OPEN_STATES:
            raise UserError(
                self.env._(
                    "This connection request is %(state)s: nothing more can be done with it.",
                    state=dict(self._fields["state"]._description_selection(self.env))[self.state].lower(),
                )
            )
        if self.expires_at < fields.Datetime.now():
            raise UserError(
                self.env._(
                    "This connection request expired on %(date)s: ask %(requester)s to send it again.",
                    date=format_datetime(self.env, self.expires_at, dt_format="short"),
                    requester=self.requester_id.name,
                )
            )
        bank = self.journal_id.sudo()
        if bank.powens_account_id and bank.powens_state != "disconnected":
            raise UserError(
                self.env._("The bank %(bank)s is connected already: this request is no longer needed.", bank=bank.name)
            )

    def _mark_opened(self):
        """The invited user opened the request (from the e-mail or the inbox)."""
        if self.invited_user_id == self.env.user and self.state == "sent":
            self.sudo().write({"state": "opened", "opened_at": fields.Datetime.now()})

    def action_consent(self):
        """The invited user agrees to the text shown: recorded as in Option 1, with their name."""
        self._check_invited()
        if self.state == "consented":
            raise UserError(self.env._("You already gave your consent: click POWENS."))
        consent = self.env["powens.consent"]._record(self.journal_id, self.consent_text)
        now = fields.Datetime.now()
        self.sudo().write(
            {
                "state": "consented",
                "consent_id": consent.id,
                "consented_at": now,
                "opened_at": self.opened_at or now,
            }
        )
        return True

    def action_open_webview(self):
        """ "POWENS": to Powens' webview, where the invited user picks the bank and logs in."""
        self._check_invited()
        if self.state != "consented":
            raise UserError(self.env._("Give your consent first."))
        return {
            "type": "ir.actions.act_url",
            "url": self.journal_id._powens_webview_url("connect", self.consent_id.sudo(), connection_request=self),
            "target": "self",
        }

    def action_decline(self):
        self._check_invited()
        if self.consent_id:
            self.consent_id.sudo().revoked_at = fields.Datetime.now()
        self.sudo()._close("declined", self.env._("%(user)s declined to connect the bank.", user=self.env.user.name))
        return True

    def _mark_connected(self):
        """The webview came back and the bank is connected: the requester learns it."""
        self.sudo().write({"state": "connected", "connected_at": fields.Datetime.now()})
        self._notify(
            self.requester_id - self.env.user,
            self.env._(
                "%(user)s connected the bank %(bank)s to Powens.",
                user=self.env.user.name,
                bank=self.journal_id.sudo().name,
            ),
        )

    # --- Both sides -------------------------------------------------------------------------

    def _close(self, state, reason):
        """Close open requests (declined, cancelled, expired), telling both sides why but the
        person who closed them."""
        for connection_request in self:
            connection_request.write({"state": state, "closed_at": fields.Datetime.now()})
            connection_request._notify(
                (connection_request.requester_id | connection_request.invited_user_id) - self.env.user, reason
            )

    def _notify(self, users, body):
        """A message on the request for ``users``, landing in their INGENEO inbox (the bell)."""
        self.sudo().message_post(
            body=body, partner_ids=users.partner_id.ids, message_type="notification", subtype_xmlid="mail.mt_note"
        )

    def _notify_get_recipients(self, message, msg_vals=False, **kwargs):
        """Internal users get this model's messages in their inbox whatever their preference:
        the e-mail of a request is the template's, sent once."""
        recipients = super()._notify_get_recipients(message, msg_vals=msg_vals, **kwargs)
        for recipient in recipients:
            if recipient["notif"] == "email" and recipient["uid"] and not recipient["ushare"]:
                recipient["notif"] = "inbox"
        return recipients

    @api.model
    def _cron_expire(self):
        """Close the open requests past their validity (every action checks it anyway)."""
        overdue = self.sudo().search([("state", "in", REQUEST_OPEN_STATES), ("expires_at", "<", fields.Datetime.now())])
        overdue._close("expired", self.env._("The connection request expired without being completed."))
        self.env["ir.cron"]._commit_progress(len(overdue))
