import logging
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError

from ..const import CONSENT_EXPIRY_HORIZON_DAYS, REQUEST_OPEN_STATES
from ..models.account_journal_powens_advice import CONSENT_RENEWAL_ACTIVITY

_logger = logging.getLogger(__name__)

BULK_ACTIONS = [
    ("send_request", "Send connection requests"),
    ("resend_expired", "Resend expired requests"),
    ("sync", "Synchronise now"),
    ("remind_consent", "Remind to renew the consent"),
]


class PowensBulkAction(models.TransientModel):
    """One action on the banks selected in a list (the cockpit): confirmed in a dialog, then
    run bank by bank through the same path and checks as on one bank, each bank's outcome
    listed, a refusal never stopping the others."""

    _name = "powens.bulk.action"
    _description = "POWENS action on several banks"

    action = fields.Selection(BULK_ACTIONS, required=True, readonly=True)
    state = fields.Selection([("draft", "To confirm"), ("done", "Done")], default="draft", readonly=True)
    journal_ids = fields.Many2many("account.journal", string="Banks", readonly=True)
    company_line_ids = fields.One2many("powens.bulk.action.company", "wizard_id", string="Users per company")
    result_ids = fields.One2many("powens.bulk.action.result", "wizard_id", string="Results", readonly=True)
    summary = fields.Char(compute="_compute_summary")

    @api.depends("result_ids.outcome")
    def _compute_summary(self):
        for wizard in self:
            outcomes = wizard.result_ids.mapped("outcome")
            wizard.summary = self.env._(
                "%(done)s bank(s) done, %(refused)s refused, %(failed)s failed.",
                done=outcomes.count("done"),
                refused=outcomes.count("refused"),
                failed=outcomes.count("failed"),
            )

    @api.model
    def _open_for(self, journals, action):
        """The dialog of ``action`` on ``journals`` (the selected rows, or any ids a crafted
        call sends): for connection requests, one line per company of the banks, to choose
        whom they go to."""
        readable = journals._filtered_access("read")
        wizard = self.create(
            {
                "action": action,
                "company_line_ids": [
                    fields.Command.create({"company_id": company.id, "company_name": company.name})
                    for company in (readable.company_id if action == "send_request" else ())
                ],
            }
        )
        # Every id asked for is kept, the ones this user may not read included (the ORM
        # refuses to link them as the user): each is judged, and refused, bank by bank.
        wizard.sudo().journal_ids = journals.ids
        return wizard._reopen()

    def _reopen(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": dict(self._fields["action"]._description_selection(self.env))[self.action],
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
        }

    def action_run(self):
        """Run the action on each bank and list what was done and what was refused."""
        self.ensure_one()
        if self.state != "draft":
            raise UserError(self.env._("This action was run already."))
        # The banks as selected, whatever this user may read: each one is judged below.
        requested = self.sudo().journal_ids.with_env(self.env)
        # The cockpit lists the banks of every company the user works in, not only the
        # companies active in the switcher: their banks are acted upon as there.
        actor = self.with_context(allowed_company_ids=self.env.user.company_ids.ids)
        act = getattr(actor, f"_bulk_{self.action}")
        readable = requested.with_env(actor.env)._filtered_access("read")
        results = []
        for sequence, journal in enumerate(requested.with_env(actor.env)):
            if journal in readable:
                outcome, message = actor._bulk_run_one(act, journal)
                names = {"bank_name": journal.name, "company_name": journal.company_id.name}
            else:
                outcome, message = "refused", self.env._("You may not act on this bank: it is not in your companies.")
                names = {"bank_name": self.env._("Bank #%(id)s", id=journal.id), "company_name": False}
            results.append({"sequence": sequence, "outcome": outcome, "message": message, **names})
        self.write({"state": "done", "result_ids": [fields.Command.create(values) for values in results]})
        return self._reopen()

    def _bulk_run_one(self, act, journal):
        """``act`` on one bank after the checks of every Powens action on a bank; what a
        refused bank wrote is undone, and the next bank is run whatever happened."""
        try:
            with self.env.cr.savepoint():
                journal._powens_check_can_connect()
                return act(journal)
        except (UserError, AccessError) as refusal:
            return "refused", refusal.args[0]
        except Exception:
            _logger.exception("POWENS bulk action %s failed on journal %s", self.action, journal.id)
            return "failed", self.env._("An unexpected error occurred: the server log has the details.")

    # --- The actions, on one bank each: ("done" | "failed", message), or a refusal raised ---

    def _bulk_send_request(self, journal):
        user = self.company_line_ids.filtered(lambda line: line.company_id == journal.company_id).user_id
        if not user:
            raise UserError(self.env._("No user was chosen for %(company)s.", company=journal.company_id.name))
        return "done", journal._powens_send_request(user)["params"]["message"]

    def _bulk_resend_expired(self, journal):
        last_request = journal.powens_request_ids[:1]  # the newest first
        if not last_request:
            raise UserError(self.env._("No connection request was ever sent for this bank."))
        open_request = last_request.state in REQUEST_OPEN_STATES
        if open_request and last_request.expires_at >= fields.Datetime.now():
            raise UserError(
                self.env._(
                    "Its connection request is still valid, until %(date)s.",
                    date=fields.Date.to_string(last_request.expires_at.date()),
                )
            )
        if not open_request and last_request.state != "expired":
            state = dict(last_request._fields["state"]._description_selection(self.env))[last_request.state]
            raise UserError(
                self.env._("Its last connection request did not expire: it is %(state)s.", state=state.lower())
            )
        return "done", journal._powens_send_request(last_request.invited_user_id)["params"]["message"]

    def _bulk_sync(self, journal):
        if not journal.powens_account_id:
            raise UserError(self.env._("This bank is not connected to Powens."))
        # In the bank's company, as the scheduled job retrieves it.
        result = self.env["powens.retrieval"].with_company(journal.company_id)._retrieve(journal, "manual")
        if result.busy:
            raise UserError(self.env._("A retrieval of this bank is already running."))
        if result.error:
            return "failed", self.env._("The retrieval failed: %(error)s", error=result.error)
        return "done", self.env._("%(count)s new movement(s) imported.", count=result.new_count)

    def _bulk_remind_consent(self, journal):
        """Remind the person who connected the bank (the one the add-on's reminders go to)
        that its consent lapses soon: an activity, kept single, and a message in their inbox."""
        if not journal.powens_account_id:
            raise UserError(self.env._("This bank is not connected to Powens."))
        expiry = journal.powens_consent_expires_at
        if not expiry:
            raise UserError(self.env._("Powens did not say until when the consent runs: there is nothing to renew."))
        date = fields.Date.to_string(expiry.date())
        if expiry > fields.Datetime.now() + timedelta(days=CONSENT_EXPIRY_HORIZON_DAYS):
            raise UserError(self.env._("The consent runs until %(date)s: no renewal is needed yet.", date=date))
        # The person who connected the bank, as recorded by the add-on's own flows.
        user = journal.sudo().powens_connection_id.connected_by_id
        if not user.active or user.share:
            raise UserError(self.env._("Nobody to remind: the person who connected this bank is unknown or archived."))
        # Posted as superuser, as the add-on's other reminders: a note on the bank's chatter.
        bank = journal.sudo().with_context(lang=user.lang)
        note = bank.env._(
            "%(sender)s reminds you that the consent to retrieve the movements of %(bank)s lapses on %(date)s: "
            "renew it (POWENS tab, Renew the consent) to keep the movements coming.",
            sender=self.env.user.name,
            bank=journal.name,
            date=date,
        )
        bank._powens_remind(CONSENT_RENEWAL_ACTIVITY, True, expiry.date(), note)
        bank.message_post(
            body=note,
            author_id=self.env.user.partner_id.id,
            partner_ids=user.partner_id.ids,
            message_type="comment",
            subtype_xmlid="mail.mt_note",
        )
        return "done", self.env._("Reminder sent to %(user)s.", user=user.name)
