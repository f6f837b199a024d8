from datetime import timedelta

from lxml import etree

from odoo import api, fields, models
from odoo.fields import Domain
from odoo.tools.safe_eval import datetime as safe_datetime
from odoo.tools.safe_eval import dateutil, safe_eval

from ..const import CONSENT_EXPIRY_HORIZON_DAYS, REQUEST_OPEN_STATES
from .account_journal import BLOCKING_STATE_GROUPS

# What the cockpit's filters call "soon" and "for long", measured from the moment of the search.
CONSENT_EXPIRING_WITHIN = timedelta(days=CONSENT_EXPIRY_HORIZON_DAYS)
IN_ERROR_ALERT_AFTER = timedelta(hours=48)
NO_MOVEMENT_ALERT_AFTER = timedelta(days=7)
# The statuses of a bank Powens does not feed: no consent to expire, no movement expected.
NOT_FED_STATES = ("not_connected", "disconnected")
# The statuses in which someone must act on the bank before the movements come again.
ACTION_STATES = ("action_required", "error")
COCKPIT_SEARCH_VIEW = "ingeneo_powens.powens_cockpit_view_search"


class AccountJournal(models.Model):
    """The bank's line in the cockpit "POWENS banks": its health in stored, indexed fields
    kept up to date where it changes (the end of a retrieval, the application of the
    connection's state, the connection requests), so that the cockpit's filters and groupings
    over hundreds of banks are plain SQL, and relative filters ("within 14 days") are
    evaluated when the user searches."""

    _inherit = "account.journal"

    powens_action_required = fields.Boolean(
        string="Action required",
        compute="_compute_powens_action_required",
        store=True,
        index=True,
        help="Someone must act before the movements come: reconnect the bank, or choose the bank account.",
    )
    powens_error_since = fields.Datetime(
        string="In error since",
        copy=False,
        readonly=True,
        index=True,
        help="Since when the retrievals of this bank fail or the bank waits for an action, without a "
        "success in between.",
    )
    powens_last_error = fields.Char(
        string="Last error",
        copy=False,
        readonly=True,
        help="Why the last retrieval failed, or what the bank asks for; empty once it works again.",
    )
    powens_last_retrieval_at = fields.Datetime(string="Last retrieval at", copy=False, readonly=True)
    powens_last_retrieval_outcome = fields.Selection(
        [("success", "Succeeded"), ("failure", "Failed")],
        string="Outcome of the last retrieval",
        copy=False,
        readonly=True,
    )
    powens_last_movement_date = fields.Date(
        string="Last movement on",
        copy=False,
        readonly=True,
        index=True,
        help="The booking date of the latest movement imported from Powens.",
    )
    powens_open_request_id = fields.Many2one(
        "powens.connection.request",
        string="Open connection request",
        compute="_compute_powens_open_request_id",
        store=True,
        index="btree_not_null",
    )
    powens_request_user_id = fields.Many2one(related="powens_open_request_id.invited_user_id", string="Request sent to")
    powens_request_sent_at = fields.Datetime(related="powens_open_request_id.sent_at", string="Request sent on")
    powens_request_email_to = fields.Char(related="powens_open_request_id.email_to", string="Request e-mail")
    powens_consent_days_left = fields.Integer(
        string="Days of consent left", compute="_compute_powens_consent_days_left"
    )
    powens_pending_count = fields.Integer(string="Number of pending movements", compute="_compute_powens_pending_count")
    # The cockpit's relative filters: their domains are computed at search time.
    powens_consent_expiring = fields.Boolean(
        string="Consent expiring within 14 days",
        compute="_compute_powens_cockpit_alerts",
        search="_search_powens_consent_expiring",
    )
    powens_in_error_48h = fields.Boolean(
        string="In error for more than 48 h",
        compute="_compute_powens_cockpit_alerts",
        search="_search_powens_in_error_48h",
    )
    powens_no_movement_7d = fields.Boolean(
        string="No movement for 7 days",
        compute="_compute_powens_cockpit_alerts",
        search="_search_powens_no_movement_7d",
    )

    @api.depends("powens_state", "powens_connection_id", "powens_account_id")
    def _compute_powens_action_required(self):
        for journal in self:
            choice_pending = (
                journal.powens_connection_id
                and not journal.powens_account_id
                and journal.powens_state == "not_connected"
            )
            journal.powens_action_required = journal.powens_state in ACTION_STATES or bool(choice_pending)

    @api.depends("powens_request_ids.state")
    def _compute_powens_open_request_id(self):
        for journal in self:
            open_requests = journal.powens_request_ids.filtered(lambda request: request.state in REQUEST_OPEN_STATES)
            journal.powens_open_request_id = open_requests[:1]

    @api.depends("powens_consent_expires_at")
    def _compute_powens_consent_days_left(self):
        today = fields.Date.context_today(self)
        for journal in self:
            expiry = journal.powens_consent_expires_at
            journal.powens_consent_days_left = (expiry.date() - today).days if expiry else 0

    def _compute_powens_pending_count(self):
        # As superuser: a count shown to every reader of the banks (invoicing users too); the
        # pending movements themselves stay the accounting readers'.
        counts = dict(
            self.env["powens.pending.transaction"]
            .sudo()
            ._read_group([("journal_id", "in", self._origin.ids)], ["journal_id"], ["__count"])
        )
        for journal in self:
            journal.powens_pending_count = counts.get(journal._origin, 0)

    def _compute_powens_cockpit_alerts(self):
        """One query per alert for all the banks read, as their filters select them now."""
        banks = Domain("id", "in", self._origin.ids)
        alerts = {
            "powens_consent_expiring": self._search_powens_consent_expiring("=", True),
            "powens_in_error_48h": self._search_powens_in_error_48h("=", True),
            "powens_no_movement_7d": self._search_powens_no_movement_7d("=", True),
        }
        for field_name, domain in alerts.items():
            matching = self.search(banks & domain)
            for journal in self:
                journal[field_name] = journal._origin in matching

    def _powens_alert_domain(self, operator, value, domain):
        """The search of an alert field: ``domain`` for "is", its negation for "is not"."""
        if operator not in ("=", "!=") or not isinstance(value, bool):
            return NotImplemented
        return domain if (operator == "=") == value else ~domain

    def _search_powens_consent_expiring(self, operator, value):
        limit = fields.Datetime.now() + CONSENT_EXPIRING_WITHIN
        # The connections are the right's; the consent's end is shown to every reader.
        return self._powens_alert_domain(
            operator,
            value,
            Domain("powens_state", "not in", NOT_FED_STATES)
            & Domain("powens_connection_id", "any!", Domain("consent_expires_at", "<=", limit)),
        )

    def _search_powens_in_error_48h(self, operator, value):
        since = fields.Datetime.now() - IN_ERROR_ALERT_AFTER
        return self._powens_alert_domain(
            operator,
            value,
            Domain("powens_state", "not in", NOT_FED_STATES)
            & Domain("powens_error_since", "!=", False)
            & Domain("powens_error_since", "<=", since),
        )

    def _search_powens_no_movement_7d(self, operator, value):
        """Fed by Powens, and no movement booked within 7 days: the last one is older, or none
        came since a connection made more than 7 days ago."""
        day = fields.Date.context_today(self) - NO_MOVEMENT_ALERT_AFTER
        connected_long_ago = Domain(
            "powens_connection_id", "any!", Domain("create_date", "<", fields.Datetime.now() - NO_MOVEMENT_ALERT_AFTER)
        )
        return self._powens_alert_domain(
            operator,
            value,
            Domain("powens_account_id", "!=", False)
            & Domain("powens_state", "not in", NOT_FED_STATES)
            & (
                Domain("powens_last_movement_date", "<", day)
                | (Domain("powens_last_movement_date", "=", False) & connected_long_ago)
            ),
        )

    # --- Kept up to date where the data changes -------------------------------------------

    def _powens_cockpit_record_retrieval(self, result):
        """The end of a retrieval of this bank (a ``RetrievalResult``): its outcome, the
        last error in words and since when the bank is in error, the date of its latest
        movement when new ones came."""
        self.ensure_one()
        journal = self.sudo()
        now = fields.Datetime.now()
        values = {
            "powens_last_retrieval_at": now,
            "powens_last_retrieval_outcome": "failure" if result.error else "success",
            "powens_last_error": result.error or False,
            "powens_error_since": (journal.powens_error_since or now) if result.error else False,
        }
        if result.new_count or result.counts.get("booked_pending"):
            values["powens_last_movement_date"] = journal._powens_newest_movement_date()
        journal.write(values)

    def _powens_newest_movement_date(self):
        lines = self.env["account.bank.statement.line"].sudo()
        domain = [("journal_id", "=", self.id), ("powens_transaction_id", "!=", False)]
        [(newest,)] = lines._read_group(domain, aggregates=["date:max"])
        return newest

    def _powens_apply_connection_state(self):
        """The status changed outside a retrieval too (a reconnection): a bank waiting for an
        action is in error from now on, a bank Powens can sync again is not any more."""
        result = super()._powens_apply_connection_state()
        now = fields.Datetime.now()
        for journal in self.sudo().filtered("powens_account_id"):
            if journal.powens_connection_id.state_group in BLOCKING_STATE_GROUPS:
                journal.write(
                    {
                        "powens_error_since": journal.powens_error_since or now,
                        "powens_last_error": journal.powens_message,
                    }
                )
            elif journal.powens_error_since or journal.powens_last_error:
                journal.write({"powens_error_since": False, "powens_last_error": False})
        return result

    # --- The cockpit ----------------------------------------------------------------------

    @api.model
    def action_open_powens_cockpit(self):
        """ "POWENS banks" over every company of the user: the cockpit is the firm's view of
        its clients. In the browser the switcher (the ``cids`` cookie) governs the companies
        of a list: the menu reaches this through ``/powens/cockpit``, which ticks them all.
        For whoever reads the banks (the menu), or the bank it is called from. The current company stays
        first (the one new records default to); the record rules still apply, and Odoo
        refuses a company the user does not belong to."""
        self.check_access("read")
        action = self.env["ir.actions.act_window"]._for_xml_id("ingeneo_powens.action_powens_cockpit")
        companies = self.env.company | self.env.user.company_ids
        action["context"] = dict(safe_eval(action.get("context") or "{}"), allowed_company_ids=companies.ids)
        return action

    @api.model
    def _powens_cockpit_filter_domains(self):
        """The domains of the cockpit's filters, by name, as the web client evaluates them
        now: for the weekly digest's links, the benchmark and the tests."""
        search_view = self.get_views([(self.env.ref(COCKPIT_SEARCH_VIEW).id, "search")])["views"]["search"]
        arch = etree.fromstring(search_view["arch"])
        context = {
            "context_today": lambda: fields.Date.context_today(self),
            "relativedelta": dateutil.relativedelta.relativedelta,
            "datetime": safe_datetime,
            "uid": self.env.uid,
        }
        return {
            node.get("name"): safe_eval(node.get("domain"), context)
            for node in arch.iter("filter")
            if node.get("domain")
        }
