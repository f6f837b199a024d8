import logging

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError

from ..const import JOURNAL_POWENS_STATES, SETUP_GROUP
from ..powens import PowensError, PowensNotFound

_logger = logging.getLogger(__name__)

# Connection state groups in which Powens cannot sync the bank until someone acts: never
# forced, read less often (what Powens already has is still read).
BLOCKING_STATE_GROUPS = ("user_action", "error")


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
        # Banks in several currencies do not add up: no total in grouped lists (the cockpit).
        aggregator=None,
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
    powens_other_account_ids = fields.Many2many(
        "powens.account",
        compute="_compute_powens_account_choice_ids",
        string="Other shared accounts",
        help="Accounts the holder shared in this bank's connection that feed no bank yet.",
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
        """As ``_get_journal_bank_account_balance`` for each bank, in one query for them all
        (the cockpit lists hundreds)."""
        connected = self.filtered("powens_account_id")
        totals = {
            account: (balance, amount_currency)
            for account, balance, amount_currency in self.env["account.move.line"]._read_group(
                [
                    ("account_id", "in", connected.default_account_id.ids),
                    ("display_type", "not in", ("line_section", "line_subsection", "line_note")),
                    ("parent_state", "!=", "cancel"),
                ],
                ["account_id"],
                ["balance:sum", "amount_currency:sum"],
            )
        }
        for journal in self:
            if journal in connected:
                balance, amount_currency = totals.get(journal.default_account_id, (0.0, 0.0))
                in_foreign_currency = journal.currency_id and journal.currency_id != journal.company_id.currency_id
                journal_balance = amount_currency if in_foreign_currency else balance
                journal.powens_balance_difference = journal.powens_account_id.balance - journal_balance
            else:
                journal.powens_balance_difference = 0.0

    def _get_bank_statements_available_sources(self):
        return super()._get_bank_statements_available_sources() + [("powens", "POWENS")]

    @api.depends("powens_connection_id.account_ids.journal_ids", "powens_account_id")
    def _compute_powens_account_choice_ids(self):
        """The accounts of the bank's connection the holder shared and no bank uses: to choose
        from until the bank has its account, then the others, each offered as a bank of its own."""
        for journal in self:
            free = journal.powens_connection_id.account_ids.filtered(
                lambda account: account.enabled and not account.journal_ids
            )
            journal.powens_account_choice_ids = False if journal.powens_account_id else free
            journal.powens_other_account_ids = free if journal.powens_account_id else False

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
            self.env["powens.retrieval"]._refresh_connection(journal, client, forced=False)
            journal._powens_apply_connection_state()
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

    def action_powens_add_other_banks(self):
        """Open the dialog that adds the other accounts shared in this bank's connection to the
        referential, each as a connected bank of its own."""
        self._powens_check_can_connect()
        self.ensure_one()
        return self._powens_dialog(
            self.env._("Add the other shared accounts"),
            "powens.account.add.banks.wizard",
            {"default_journal_id": self.id},
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
        retrieval = self.env["powens.retrieval"]
        results = [retrieval._retrieve(journal, "manual") for journal in self.filtered("powens_account_id")]
        errors = [result.error for result in results if result.error]
        if errors:
            message = self.env._("The retrieval failed: %(error)s", error="; ".join(errors))
        elif any(result.busy for result in results):
            message = self.env._("A retrieval of this bank is already running: its movements will appear shortly.")
        else:
            message = self.env._(
                "%(count)s new movement(s) imported.", count=sum(result.new_count for result in results)
            )
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "message": message,
                "type": "warning" if errors else "info",
                "sticky": bool(errors),
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    @api.model
    def _cron_powens_sync(self):
        """The scheduled job's entry point (``ir_cron_powens_sync``): see ``powens.retrieval``."""
        self.env["powens.retrieval"]._retrieve_due_banks()

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
            # Also run by the web client as is, unprocessed (static/src/bank_back_from_powens.js).
            "views": [(False, "form")],
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

    def _powens_history_start(self):
        """The first day whose movements this bank imports: its own, else the company's."""
        self.ensure_one()
        return self.sudo().powens_history_start or self.company_id._powens_history_start()
