import logging
import time
from datetime import timedelta

import psycopg2
from psycopg2.errors import SerializationFailure

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError

from odoo.addons.base.models.res_bank import sanitize_account_number

from ..const import CALLBACK_ROUTE, JOURNAL_POWENS_STATES, REQUEST_OPEN_STATES, SETUP_GROUP
from ..powens import PowensError, PowensNotFound
from ..powens.urls import domain_host
from ..powens.webview import build_connect_url, build_reconnect_url

_logger = logging.getLogger(__name__)

# A bank whose retrieval started longer ago than this is taken to have died with its worker
# and may be claimed again.
SYNC_CLAIM_TIMEOUT = timedelta(minutes=30)
# What every state refresh reads of the connection in one request: its state, its sources
# (the consent's end is only there) and all its accounts (balances, enabled or not).
CONNECTION_STATE_EXPAND = ("all_accounts", "sources")

# The person who connected a bank is reminded this long before its consent lapses.
CONSENT_REMINDER_DELAY = timedelta(days=7)
ACTION_REQUIRED_ACTIVITY = "ingeneo_powens.mail_activity_type_powens_action_required"
CONSENT_RENEWAL_ACTIVITY = "ingeneo_powens.mail_activity_type_powens_consent_renewal"

# Connection state groups in which Powens cannot sync the bank until someone acts: never
# forced, read less often (what Powens already has is still read).
BLOCKING_STATE_GROUPS = ("user_action", "error")

# Connection state groups (powens.values.connection_state_group) -> the bank's status.
STATE_BY_GROUP = {"ok": "connected", "user_action": "action_required", "transient": "temporary", "error": "error"}


class AccountJournal(models.Model):
    _inherit = "account.journal"

    powens_account_id = fields.Many2one(
        "powens.account",
        string="Powens account",
        copy=False,
        readonly=True,
        index="btree_not_null",
        check_company=True,
        help="The bank account, reached through Powens, whose movements feed this journal.",
    )
    powens_connection_id = fields.Many2one(
        "powens.connection",
        string="Powens connection",
        copy=False,
        readonly=True,
        check_company=True,
        help="The bank login at Powens this journal was connected with.",
    )
    powens_state = fields.Selection(
        JOURNAL_POWENS_STATES,
        string="Automatic retrieval",
        default="not_connected",
        required=True,
        copy=False,
        readonly=True,
        tracking=True,
    )
    powens_message = fields.Char(string="Retrieval message", copy=False, readonly=True)
    powens_consent_expires_at = fields.Datetime(
        related="powens_connection_id.consent_expires_at", string="Consent expires on"
    )
    powens_last_sync_at = fields.Datetime(string="Last retrieval", copy=False, readonly=True)
    powens_next_sync_at = fields.Datetime(related="powens_connection_id.next_try", string="Next retrieval at Powens")
    powens_sync_started_at = fields.Datetime(copy=False, readonly=True)
    # Related fields are computed as superuser: the bank's live balance is shown to those who
    # may read the Powens account (the holders of the right, in their companies), not to every
    # reader of the journal.
    powens_balance = fields.Monetary(
        related="powens_account_id.balance",
        string="Balance at the bank",
        currency_field="powens_balance_currency_id",
        groups=SETUP_GROUP,
    )
    powens_balance_currency_id = fields.Many2one(
        related="powens_account_id.currency_id", string="Currency at the bank", groups=SETUP_GROUP
    )
    powens_balance_difference = fields.Monetary(
        compute="_compute_powens_balance_difference",
        string="Difference with the journal",
        currency_field="powens_balance_currency_id",
        groups=SETUP_GROUP,
        help="The bank's balance at Powens minus the journal's balance: not zero when movements "
        "are missing, or before the opening balance is entered.",
    )
    powens_pending_ids = fields.One2many("powens.pending.transaction", "journal_id", string="Pending movements")
    powens_refused_ids = fields.One2many("powens.refused.transaction", "journal_id", string="Refused movements")
    powens_history_start = fields.Date(
        string="Retrieve movements from",
        copy=False,
        groups=SETUP_GROUP,
        help="No movement dated before this day is imported into this bank, whichever way it "
        "arrives. Empty: the company's date, set here when the bank is linked.",
    )
    powens_sync_log_ids = fields.One2many("powens.sync.log", "journal_id", string="Retrievals")
    powens_account_choice_ids = fields.Many2many(
        "powens.account", compute="_compute_powens_account_choice_ids", string="Accounts to choose from"
    )
    powens_request_ids = fields.One2many("powens.connection.request", "journal_id", string="Connection requests")

    _powens_account_unique = models.Constraint(
        "UNIQUE(powens_account_id)", "A Powens bank account feeds one journal only."
    )

    # --- Write guard --------------------------------------------------------------------------

    @api.model
    def _powens_flow_fields(self):
        """The Powens fields of a bank that the user sees but never types: the add-on's own
        flows set them (as superuser), the interface shows them read-only. Odoo's write()
        does not enforce readonly, so ``write``/``create`` do it for these."""
        return frozenset(name for name, field in self._fields.items() if name.startswith("powens_") and field.readonly)

    def _powens_check_flow_fields(self, field_names):
        """Refuse a direct write of the Powens fields in ``field_names`` (RPC, imports, any
        user, accounting administrators included): only the add-on's flows, run as
        superuser, link a bank to a Powens account or change its retrieval status."""
        if self.env.su:
            return
        written = sorted(self._powens_flow_fields().intersection(field_names))
        if written:
            raise AccessError(
                self.env._(
                    "The Powens fields of a bank are set by the Powens actions only (Connect POWENS, "
                    "Choose the bank account, Disconnect...), not written directly: %(fields)s.",
                    fields=", ".join(self._fields[name]._description_string(self.env) for name in written),
                )
            )

    @api.model_create_multi
    def create(self, vals_list):
        defaults = [key.removeprefix("default_") for key in self.env.context if key.startswith("default_")]
        self._powens_check_flow_fields([name for vals in vals_list for name in vals] + defaults)
        return super().create(vals_list)

    def write(self, vals):
        self._powens_check_flow_fields(vals)
        return super().write(vals)

    @api.depends("powens_account_id.balance")
    def _compute_powens_balance_difference(self):
        for journal in self:
            if journal.powens_account_id:
                balance, _count = journal._get_journal_bank_account_balance()
                journal.powens_balance_difference = journal.powens_account_id.balance - balance
            else:
                journal.powens_balance_difference = 0.0

    def _get_bank_statements_available_sources(self):
        return super()._get_bank_statements_available_sources() + [("powens", "POWENS")]

    @api.depends("powens_connection_id.account_ids", "powens_account_id")
    def _compute_powens_account_choice_ids(self):
        for journal in self:
            if journal.powens_account_id:
                journal.powens_account_choice_ids = False
            else:
                journal.powens_account_choice_ids = journal.powens_connection_id.account_ids.filtered(
                    lambda account: account.enabled and not account.journal_ids
                )

    # --- Guards -----------------------------------------------------------------------------

    def _powens_check_can_connect(self, connection_request=None):
        """Every Powens action on a bank starts here: the right, the company, a saved bank; or,
        for a delegated connection, the open ``connection_request`` addressed to the user."""
        if connection_request:
            connection_request._check_invited(self)
        else:
            self.company_id._powens_check_setup_right()
        for journal in self.sudo():
            if journal.type != "bank":
                raise UserError(self.env._("Only a bank of the accounting referential can be connected to Powens."))

    # --- Actions ----------------------------------------------------------------------------

    def action_powens_connect(self):
        """Ask for the account holder's consent, then send the browser to Powens' webview."""
        self._powens_check_can_connect()
        self.ensure_one()
        return self._powens_consent_action("connect")

    def action_powens_reconnect(self):
        """ "Reconnect" a bank Powens cannot sync (strong authentication, new password...)
        through the reconnect webview; "Renew the consent" of a healthy one as Powens
        documents it, see :meth:`_powens_renew_consent`."""
        self._powens_check_can_connect()
        self.ensure_one()
        if not self.powens_connection_id:
            raise UserError(self.env._("This bank was never connected: use Connect POWENS."))
        if self.powens_connection_id.state_group in BLOCKING_STATE_GROUPS:
            return self._powens_consent_action("reconnect")
        return self._powens_renew_consent()

    def _powens_renew_consent(self):
        """Ask Powens to renew the holder's authorisation before it lapses (``refresh_auth``,
        which triggers a strong authentication, the user being here), then open the reconnect
        webview when Powens asks for that authentication. "Renewed" is said only when Powens'
        consent end (``access_expire``) moved."""
        journal = self.sudo()
        connection = journal.powens_connection_id
        consent_before = connection.consent_expires_at
        client = journal._powens_client()
        try:
            client.update_connection(connection.powens_id, refresh_auth=True)
            journal._powens_refresh_connection(client, forced=False)
        except PowensError as error:
            _logger.warning("Powens refused to renew the consent of journal %s: %s", self.id, error)
            raise UserError(
                self.env._("Powens could not renew the consent: %(reason)s", reason=self._powens_error_message(error))
            ) from None
        if connection.state_group in BLOCKING_STATE_GROUPS:
            return self._powens_consent_action("reconnect")
        renewed, report = journal._powens_report_consent(consent_before, renewal_asked=True)
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "message": report,
                "type": "success" if renewed else "warning",
                "sticky": not renewed,
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    def _powens_report_consent(self, consent_before, renewal_asked=False):
        """Post on the bank what a reconnection, or a renewal Powens did at once
        (``renewal_asked``), did to the consent, judged by Powens' consent end only; return
        whether it moved, and what was posted."""
        self.ensure_one()
        expiry = self.powens_connection_id.consent_expires_at
        renewed = bool(expiry) and (not consent_before or expiry > consent_before)
        date = expiry and fields.Date.to_string(expiry.date())
        if renewed:
            body = self.env._(
                "Consent renewed by %(user)s: the movements keep coming until %(date)s.",
                user=self.env.user.name,
                date=date,
            )
        elif self.powens_connection_id.state_group in BLOCKING_STATE_GROUPS:
            body = self.env._(
                "Reconnected by %(user)s, but the bank still asks for an action: %(advice)s",
                user=self.env.user.name,
                advice=self.powens_message or "",
            )
        elif expiry and renewal_asked:
            body = self.env._(
                "Powens did not renew the consent (asked by %(user)s): it still ends on %(date)s. This bank "
                "does not allow an early renewal through Powens: reconnect it when it asks for it.",
                user=self.env.user.name,
                date=date,
            )
        elif expiry:
            body = self.env._(
                "Reconnected by %(user)s; the consent was not renewed and still ends on %(date)s.",
                user=self.env.user.name,
                date=date,
            )
        else:
            body = self.env._(
                "Powens did not say until when the consent runs (asked by %(user)s): nothing shows it was renewed.",
                user=self.env.user.name,
            )
        self.sudo().message_post(author_id=self.env.user.partner_id.id, body=body)
        return renewed, body

    def action_powens_manage(self):
        """ "Manage the automatic retrieval": the bank's status and its connection requests, in
        a dialog from which a request is sent to the user who holds the credentials."""
        self._powens_check_can_connect()
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Manage the automatic retrieval"),
            "res_model": "account.journal",
            "res_id": self.id,
            "views": [(self.env.ref("ingeneo_powens.account_journal_view_form_powens_manage").id, "form")],
            "target": "new",
        }

    def action_powens_choose_request_user(self):
        """The company's internal users, searchable, each with a button sending them the request."""
        self._powens_check_can_connect()
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Send the connection request to a user"),
            "res_model": "res.users",
            "views": [(self.env.ref("ingeneo_powens.res_users_view_list_powens_request").id, "list")],
            "search_view_id": self.env.ref("ingeneo_powens.res_users_view_search_powens_request").id,
            "domain": [("share", "=", False), ("company_ids", "in", self.company_id.ids)],
            "context": {"powens_request_journal_id": self.id, "create": False},
            "target": "new",
        }

    def _powens_send_request(self, user):
        """Send the connection request to ``user``, then show the bank's dialog again, with it."""
        connection_request = self.env["powens.connection.request"]._send(self, user)
        if connection_request.email_to:
            message = self.env._(
                "Request sent to %(user)s, at %(email)s.", user=user.name, email=connection_request.email_to
            )
        else:
            message = self.env._(
                "%(user)s has no e-mail address: the request awaits them in their INGENEO inbox only.", user=user.name
            )
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "message": message,
                "type": "success" if connection_request.email_to else "warning",
                "next": self.action_powens_manage(),
            },
        }

    def action_powens_disconnect(self):
        """Delete the connection at Powens (GDPR) and stop the retrieval; the imported
        movements stay in the journal."""
        self._powens_check_can_connect()
        for journal in self.filtered("powens_connection_id"):
            connection = journal.powens_connection_id
            other_journals = self.sudo().search(
                [
                    ("powens_connection_id", "=", connection.id),
                    ("id", "!=", journal.id),
                    ("powens_state", "!=", "disconnected"),
                ]
            )
            if not other_journals:
                try:
                    connection._powens_client().delete_connection(connection.powens_id)
                except PowensNotFound:
                    _logger.info("Powens connection %s was already deleted at Powens", connection.powens_id)
                except PowensError as error:
                    raise UserError(
                        self.env._("Powens could not delete the connection: %(error)s", error=error)
                    ) from None
                connection.sudo().active = False
            journal._powens_mark_disconnected(
                self.env._(
                    "Disconnected from Powens by %(user)s; the data was deleted at Powens, the imported "
                    "movements are kept.",
                    user=self.env.user.name,
                )
            )
        return True

    def _powens_mark_disconnected(self, message):
        """Stop feeding these banks: their lines stay, and so do the consent records, marked
        withdrawn (the proof of what was agreed while the data flowed)."""
        self.env["powens.consent"].sudo().search(
            [("journal_id", "in", self.ids), ("revoked_at", "=", False)]
        ).revoked_at = fields.Datetime.now()
        self.sudo().write({"powens_state": "disconnected", "powens_account_id": False, "powens_message": message})
        for journal in self.sudo():
            journal.message_post(author_id=self.env.user.partner_id.id, body=message)

    def action_powens_choose_account(self):
        """Open the dialog that links one of the connection's accounts to this bank."""
        self._powens_check_can_connect()
        self.ensure_one()
        return self._powens_dialog(
            self.env._("Choose the bank account"), "powens.account.link.wizard", {"default_journal_id": self.id}
        )

    def action_powens_search_connectors(self):
        """ "Is my bank compatible?": search Powens' list of banks."""
        self._powens_check_can_connect()
        self.ensure_one()
        return self._powens_dialog(
            self.env._("Is my bank compatible?"), "powens.connector.search", {"default_company_id": self.company_id.id}
        )

    def action_powens_open_lines(self):
        """The bank's movements, the ones the bank deleted after import first in mind."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Movements of %(bank)s", bank=self.name),
            "res_model": "account.bank.statement.line",
            "view_mode": "list,form",
            "views": [
                (self.env.ref("ingeneo_powens.account_bank_statement_line_view_list_powens").id, "list"),
                (self.env.ref("ingeneo_powens.account_bank_statement_line_view_form_powens").id, "form"),
            ],
            "search_view_id": self.env.ref("ingeneo_powens.account_bank_statement_line_view_search_powens").id,
            "domain": [("journal_id", "=", self.id)],
            "context": {"create": False},
        }

    def action_powens_sync(self):
        """ "Synchronise now": the user asks for fresh data, so Powens is asked to sync the
        bank first (it may then ask for a strong authentication), then the retrieval runs."""
        self._powens_check_can_connect()
        connected = self.filtered("powens_account_id")
        claimed = connected._powens_claim()
        for journal in claimed:
            journal._powens_sync("manual", commit_page=lambda count: None)
        logs = (
            self.env["powens.sync.log"]
            .sudo()
            .search([("journal_id", "in", claimed.ids)], order="id desc", limit=len(claimed))
        )
        failed = logs.filtered("error")
        if failed:
            message = self.env._("The retrieval failed: %(error)s", error="; ".join(failed.mapped("error")))
        elif connected - claimed:
            message = self.env._("A retrieval of this bank is already running: its movements will appear shortly.")
        else:
            message = self.env._("%(count)s new movement(s) imported.", count=sum(logs.mapped("new_count")))
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "message": message,
                "type": "warning" if failed else "info",
                "sticky": bool(failed),
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    @api.model
    def _cron_powens_sync(self):
        """Retrieve the movements of every connected bank, each in its own company and
        transaction; several workers or servers share the banks through the claim. A bank's
        failure is its own (see _powens_record_retrieval): the run goes on with the others and
        ends well, so Odoo never deactivates the job because of one bank."""
        candidates = self._powens_cron_candidates()
        cron = self.env["ir.cron"]
        cron._commit_progress(remaining=len(candidates))
        for journal in candidates:
            claimed = journal._powens_claim()
            cron._commit_progress()  # the claim is visible to the other workers from here
            for mine in claimed:
                try:
                    mine.with_company(mine.company_id)._powens_sync(
                        "cron", commit_page=lambda count: cron._commit_progress()
                    )
                except Exception:
                    _logger.exception("Scheduled Powens retrieval of journal %s failed", mine.id)
                    self.env.cr.rollback()  # everything before this bank is committed
                    mine.powens_sync_started_at = False
            if cron._commit_progress(processed=1) <= 0:
                break  # out of time: the next run goes on with the banks left

    @api.model
    def _powens_cron_candidates(self):
        """The banks fed by Powens whose scheduled read is due (see
        ``_powens_retrieval_due``), those waiting for an action too: the person may have
        acted at the bank or in Powens' webview, and only a retrieval sees it."""
        now = fields.Datetime.now()
        return (
            self.sudo()
            .search(
                [
                    ("powens_account_id", "!=", False),
                    ("powens_state", "not in", ("not_connected", "disconnected")),
                ]
            )
            .filtered(lambda journal: journal._powens_retrieval_due(now))
        )

    def _powens_claim(self):
        """Mark these banks as being retrieved, skipping those another worker holds (row
        locks with SKIP LOCKED, then a timestamp that outlives the commits of a long pull)."""
        if not self:
            return self
        self.flush_model(["powens_sync_started_at"])
        try:
            with self.env.cr.savepoint(flush=False):
                self.env.cr.execute(
                    """
                    UPDATE account_journal SET powens_sync_started_at = now() AT TIME ZONE 'UTC'
                     WHERE id IN (
                        SELECT id FROM account_journal
                         WHERE id = ANY(%s)
                           AND (powens_sync_started_at IS NULL OR powens_sync_started_at < %s)
                           FOR UPDATE SKIP LOCKED)
                    RETURNING id
                """,
                    [self.ids, fields.Datetime.now() - SYNC_CLAIM_TIMEOUT],
                )
                claimed = self.browse([row[0] for row in self.env.cr.fetchall()])
        except SerializationFailure:
            # Another worker claimed one of them and committed after this transaction began
            # (repeatable read): theirs now, as a lock held would have made them.
            claimed = self.browse()
        self.invalidate_recordset(["powens_sync_started_at"])
        return claimed

    def _powens_sync(self, trigger, commit_page):
        """Refresh the connection's state, then import the account's new and changed
        movements: the retrieval of the cron and of "Synchronise now".

        Only "Synchronise now" makes Powens sync the bank; the scheduled one reads what
        Powens already has. Movements are read whatever the connection's state: a bank Powens
        cannot sync still has the movements of its last sync at Powens, and reading them is
        a read of Powens' store that reaches no bank (finding 16)."""
        self.ensure_one()
        journal = self.sudo()

        def retrieve():
            journal.powens_last_read_at = fields.Datetime.now()
            client = journal._powens_client()
            journal._powens_refresh_connection(client, forced=trigger == "manual")
            counts = journal.powens_account_id._pull_into(journal, commit_page, client=client)
            journal.powens_last_sync_at = fields.Datetime.now()
            journal._powens_apply_connection_state()
            return counts

        return journal._powens_record_retrieval(trigger, retrieve)

    def _powens_record_retrieval(self, trigger, retrieve):
        """Run ``retrieve`` (which returns the counts) as one retrieval of this claimed bank:
        timed, its failure kept, the claim released, logged. Every retrieval, scheduled,
        manual or notified by Powens, goes through here.

        Any failure is this bank's alone, a Powens error as much as a settings problem, a
        secret that cannot be decrypted or a line Odoo refuses: what it wrote is rolled back,
        the failure is logged and posted on the bank, and the caller goes on (the scheduled
        run with the other banks; Odoo deactivates a cron whose runs keep failing)."""
        self.ensure_one()
        started_at, clock = fields.Datetime.now(), time.monotonic()
        counts, error = {}, False
        # Left open on success: the transaction's commit releases it, and the scheduled
        # retrieval's page commits may have ended it already.
        savepoint = self.env.cr.savepoint()
        try:
            counts = retrieve()
            if self.powens_connection_id.state_group in BLOCKING_STATE_GROUPS:
                error = self.powens_message or self.powens_connection_id.powens_state
        except Exception as failure:
            # What was committed stays: every page is applied whole, and the cursor did not
            # move, so the next retrieval reads again from the same point.
            self._powens_roll_back_retrieval(savepoint)
            error = self._powens_failure_message(failure)
            # Powens' own words (its code) for the log; Odoo's errors may quote bank data.
            _logger.warning(
                "Powens retrieval of journal %s failed: %s",
                self.id,
                failure if isinstance(failure, PowensError) else error,
                exc_info=not isinstance(failure, (PowensError, UserError)),
            )
            self._powens_post_failure(error)
        self.powens_sync_started_at = False
        self.env["powens.sync.log"]._record(self, trigger, started_at, time.monotonic() - clock, counts, error)
        self._powens_post_counts(counts)
        return counts

    def _powens_roll_back_retrieval(self, savepoint):
        """Undo what the failed retrieval wrote since its last commit. The scheduled retrieval
        commits page by page, which ends the savepoint's transaction: then everything before
        the failure is committed already, and a rollback undoes exactly the rest."""
        try:
            savepoint.close(rollback=True)
        except psycopg2.Error:
            self.env.cr.rollback()

    def _powens_failure_message(self, failure):
        """What the accountant reads about a failed retrieval: Powens' and Odoo's own words,
        never a stack trace nor data of the movements."""
        if isinstance(failure, PowensError):
            return self._powens_error_message(failure)
        if isinstance(failure, UserError):  # ValidationError and the settings' errors too
            return failure.args[0] if failure.args else str(failure)
        return self.env._("Unexpected error (%(kind)s): the server log has the details.", kind=type(failure).__name__)

    def _powens_post_failure(self, error):
        """Post a failure on the bank once, not at every hourly retrieval it repeats."""
        last = self.env["powens.sync.log"].sudo().search([("journal_id", "=", self.id)], limit=1)
        if last.error != error:
            self.message_post(body=self.env._("The retrieval of the movements failed: %(error)s", error=error))

    def _powens_post_counts(self, counts):
        """Tell the accountant, on the bank, what a retrieval did that needs their eyes."""
        if counts.get("deleted"):
            self.message_post(
                body=self.env._(
                    "%(count)s movement(s) imported earlier are no longer listed by the bank: they are "
                    "flagged 'Deleted at the bank' in the bank's movements, for you to check.",
                    count=counts["deleted"],
                )
            )
        if counts.get("locked_period"):
            self.message_post(
                body=self.env._(
                    "%(count)s movement(s) are dated in a locked period: they were booked at the first "
                    "open date. Their bank date stays on the line (Bank date column of the movements).",
                    count=counts["locked_period"],
                )
            )
        if counts.get("newly_rejected"):
            self.message_post(
                body=self.env._(
                    "%(count)s movement(s) could not be imported: they are listed with the reason in the "
                    "bank's POWENS tab, and read again at each retrieval.",
                    count=counts["newly_rejected"],
                )
            )

    def _powens_refresh_connection(self, client, forced):
        """Read the connection at Powens (state, consent, accounts) in one request; when
        ``forced`` (the user asked for fresh data) and Powens can sync the bank, ask it to
        sync first, once, with the user present (``psu_requested``)."""
        connection = self.powens_connection_id
        if forced and connection.state_group not in BLOCKING_STATE_GROUPS:
            client.sync_connection(connection.powens_id, psu_requested=True)
        data = client.get_connection(connection.powens_id, expand=CONNECTION_STATE_EXPAND)
        connection._sync_from_powens(self.company_id, data)
        accounts = data.get("all_accounts")
        if not isinstance(accounts, list):
            accounts = client.list_accounts(connection.powens_id)
        self.env["powens.account"]._sync_from_powens(connection, accounts)
        self._powens_apply_connection_state()

    def _powens_consent_action(self, flow):
        return self._powens_dialog(
            self.env._("Consent of the account holder"),
            "powens.consent.wizard",
            {"default_journal_id": self.id, "default_flow": flow},
        )

    @staticmethod
    def _powens_dialog(title, model, context):
        return {
            "type": "ir.actions.act_window",
            "name": title,
            "res_model": model,
            "view_mode": "form",
            "target": "new",
            "context": context,
        }

    # --- Powens user of the bank --------------------------------------------------------------

    def _powens_client(self):
        """The Powens client of this bank's calls: bound to the user holding its connection,
        whose token reaches this bank's connections only (the company's user of before one
        user per bank may hold others)."""
        self.ensure_one()
        connection = self.sudo().powens_connection_id
        if not connection:
            raise UserError(self.env._("This bank is not connected to Powens."))
        return connection._powens_client()

    # --- Webview round trip -----------------------------------------------------------------

    def _powens_webview_url(self, flow, consent, connection_request=None):
        """Return the Powens webview URL for ``flow``, with a fresh temporary code (the
        permanent token never reaches the browser) and a signed, single-use `state`."""
        self._powens_check_can_connect(connection_request)
        self.ensure_one()
        journal = self.sudo()
        company = journal.company_id
        company._powens_check_contract_hosts()
        known_connection_ids = []
        try:
            if flow == "reconnect":
                powens_user = journal.powens_connection_id.user_id
                client = journal._powens_client()
            else:
                # A code only ever opens the bank's own user: the connect webview can then show
                # or change nothing of another bank, whoever holds the browser.
                powens_user = company._powens_create_user(journal)
                client = powens_user._powens_client()
                known_connection_ids = [data["id"] for data in client.list_connections()]
            code = client.get_temporary_code()["code"]
        except PowensError as error:
            raise UserError(self.env._("Powens could not open its connection page: %(error)s", error=error)) from None
        state = self.env["powens.webview.state"]._issue(
            journal, flow, powens_user, consent, connection_request, known_connection_ids=known_connection_ids
        )
        common = {
            "webview_url": company.powens_webview_url,
            "domain": domain_host(company.powens_domain or ""),
            "client_id": company.powens_client_id,
            "redirect_uri": journal.get_base_url() + CALLBACK_ROUTE,
            "code": code,
            "state": state,
            "lang": (self.env.user.lang or "fr_FR").split("_")[0],
        }
        if flow == "reconnect":
            return build_reconnect_url(connection_id=journal.powens_connection_id.powens_id, **common)
        return build_connect_url(**common)

    def _powens_finish_webview(self, webview_state, result):
        """Apply a successful webview callback: record the connection and its accounts, and
        link the account matching the bank (or leave the choice to the user). A delegated
        connection is the requester's to follow up: reminders go to them."""
        connection_request = webview_state.request_id
        self._powens_check_can_connect(connection_request)
        self.ensure_one()
        journal = self.sudo()
        company = journal.company_id
        round_trip = webview_state.sudo()
        client = round_trip.powens_user_id._powens_client()
        connected_by = connection_request.requester_id or webview_state.user_id
        consent_before = journal.powens_connection_id.consent_expires_at
        if webview_state.flow == "reconnect":
            connections_data = [
                client.get_connection(journal.powens_connection_id.powens_id, expand=("connector", "sources"))
            ]
        else:
            connections_data = journal._powens_callback_connections(round_trip, client, result.connection_ids)
        connections = self.env["powens.connection"]
        for data in connections_data:
            connection = (
                self.env["powens.connection"]
                .sudo()
                ._sync_from_powens(company, data, connected_by=connected_by, user=round_trip.powens_user_id)
            )
            self.env["powens.account"].sudo()._sync_from_powens(connection, client.list_accounts(connection.powens_id))
            connections |= connection
        if webview_state.consent_id:
            webview_state.consent_id.sudo().connection_id = connections[:1]
        journal.powens_connection_id = connections[:1]
        if webview_state.flow == "reconnect":
            journal._powens_apply_connection_state()
            journal._powens_report_consent(consent_before)
            return
        if connection_request:
            connection_request._mark_connected()
        free = connections.account_ids.filtered(lambda account: not account.journal_ids)
        match = journal._powens_matching_account(free.filtered("enabled"))
        if match:
            journal._powens_link_account(match)
        elif journal._powens_matching_account(free):
            journal.write(
                {
                    "powens_state": "not_connected",
                    "powens_message": self.env._(
                        "The account with this bank's number was not shared in Powens' pages: connect again "
                        "and tick it, or choose another shared account."
                    ),
                }
            )
        else:
            journal.write(
                {
                    "powens_state": "not_connected",
                    "powens_message": self.env._("Connected at Powens: choose which bank account feeds this journal."),
                }
            )

    def _powens_callback_connections(self, round_trip, client, connection_ids):
        """Powens' data of the connections a connect callback names, all of them made by this
        round trip (see ``powens.webview.state._powens_created_connection``), else a refusal:
        the ids come from the browser, which may name any connection. A delegated connection
        is one bank login: one connection."""
        if round_trip.request_id and len(connection_ids) > 1:
            raise UserError(self.env._("Powens sent back several connections where one was expected."))
        connections_data = []
        for powens_id in connection_ids:
            data = round_trip._powens_created_connection(client, powens_id)
            if data is None:
                _logger.warning(
                    "Powens callback of round trip %s names connection %s, which it did not create",
                    round_trip.id,
                    powens_id,
                )
                raise UserError(
                    self.env._("The link back from Powens names a connection this connection did not create.")
                )
            connections_data.append(data)
        return connections_data

    def _powens_webview_failed(self, error_code):
        """Tell, on the bank, why Powens' webview came back without connecting it: Powens'
        documented error codes each have their message (shared/powens-api.md §3.3); any other
        text from the browser's query string is never shown, only logged."""
        self.ensure_one()
        messages = {
            "access_denied": self.env._("The connection at Powens was cancelled by %(user)s.", user=self.env.user.name),
            "tos_declined": self.env._(
                "The connection at Powens did not complete: %(user)s declined Powens' terms of service.",
                user=self.env.user.name,
            ),
            "server_error": self.env._(
                "The connection at Powens did not complete: Powens met an error. Try again later."
            ),
            "session_expired": self.env._(
                "The connection at Powens did not complete: the session at Powens expired. Start again."
            ),
        }
        body = messages.get(error_code) or self.env._(
            "The connection at Powens did not complete (Powens gave no documented reason). Start again."
        )
        self.sudo().message_post(author_id=self.env.user.partner_id.id, body=body)

    def _powens_matching_account(self, accounts):
        """The account whose IBAN is the journal's bank account number, when exactly one is."""
        number = sanitize_account_number(self.bank_acc_number or "")
        if not number:
            return self.env["powens.account"]
        matches = accounts.filtered(lambda account: account.iban == number)
        return matches if len(matches) == 1 else self.env["powens.account"]

    def _powens_history_start(self):
        """The first day whose movements this bank imports: its own, else the company's."""
        self.ensure_one()
        return self.sudo().powens_history_start or self.company_id._powens_history_start()

    def _powens_link_account(self, account):
        """Link ``account`` to this bank. Only an account the holder shared in Powens' pages:
        enabling one at Powens is the holder's consent to share it, never the ERP's to give.
        The history start is fixed then, so that the company's default (a year back from
        today) does not move under the bank's history."""
        self.ensure_one()
        if not account.enabled:
            raise UserError(
                self.env._(
                    "The account holder did not share %(account)s in Powens' pages: connect again and tick it.",
                    account=account.display_name,
                )
            )
        self.sudo().write(
            {
                "powens_history_start": self._powens_history_start(),
                "powens_account_id": account.id,
                "powens_connection_id": account.connection_id.id,
                "bank_statements_source": "powens",
                "powens_state": "waiting",
                "powens_message": self.env._(
                    "Connected. The first movements are expected within 48 to 72 hours, the time "
                    "the bank takes to deliver its history."
                ),
            }
        )
        self.sudo().message_post(
            author_id=self.env.user.partner_id.id,
            body=self.env._(
                "Connected to Powens account %(account)s by %(user)s.",
                account=account.display_name,
                user=self.env.user.name,
            ),
        )
        open_requests = (
            self.env["powens.connection.request"]
            .sudo()
            .search([("journal_id", "=", self.id), ("state", "in", REQUEST_OPEN_STATES)])
        )
        open_requests._close(
            "cancelled",
            self.env._("The bank was connected by %(user)s: the request is no longer needed.", user=self.env.user.name),
        )

    def _powens_apply_connection_state(self):
        """Derive the bank's status from its connection's Powens state, with what to do in
        the language of the person who must do it, and remind that person when they must act
        (once, not at every retrieval)."""
        for journal in self.sudo():
            connection = journal.powens_connection_id
            if not journal.powens_account_id:
                continue
            status = STATE_BY_GROUP.get(connection.state_group, "error")
            if status == "connected" and not self.env["account.bank.statement.line"].sudo().search_count(
                [("journal_id", "=", journal.id), ("powens_transaction_id", "!=", False)], limit=1
            ):
                status = "waiting"
            advice = journal.with_context(lang=journal._powens_actor_lang())._powens_state_advice(
                connection.powens_state, connection.error_message
            )
            journal.write(
                {
                    "powens_state": status,
                    "powens_message": advice or (journal.powens_message if status == "waiting" else False),
                }
            )
            journal._powens_remind(
                ACTION_REQUIRED_ACTIVITY,
                status == "action_required",
                fields.Date.today(),
                self.env._(
                    "The bank asks for an action: %(message)s Reconnect it from its POWENS tab.", message=advice or ""
                ),
            )
            expiry = connection.consent_expires_at
            journal._powens_remind(
                CONSENT_RENEWAL_ACTIVITY,
                bool(expiry) and expiry - fields.Datetime.now() <= CONSENT_REMINDER_DELAY,
                expiry and expiry.date(),
                self.env._(
                    "The consent to retrieve this bank's movements lapses on %(date)s: renew it "
                    "(POWENS tab, Renew the consent) to keep the movements coming.",
                    date=expiry and fields.Date.to_string(expiry.date()),
                ),
            )

    def _powens_remind(self, activity_type_xmlid, needed, deadline, note):
        """Keep one open activity of this type for the person who connected the bank while
        ``needed``; close it once it is not any more."""
        self.ensure_one()
        activity_type = self.env.ref(activity_type_xmlid)
        open_activities = self.activity_ids.filtered(lambda activity: activity.activity_type_id == activity_type)
        if not needed:
            open_activities.action_feedback(feedback=self.env._("Done: the bank is back to normal."))
            return
        user = self.powens_connection_id.connected_by_id
        if open_activities or not user:
            return
        self.activity_schedule(activity_type_xmlid, date_deadline=deadline, note=note, user_id=user.id)
