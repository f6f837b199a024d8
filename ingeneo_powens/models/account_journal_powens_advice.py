from datetime import timedelta

from odoo import fields, models

from ..powens import errors
from ..powens.const import WRONGPASS_ERROR_CODES

# The person who connected a bank is reminded this long before its consent lapses.
CONSENT_REMINDER_DELAY = timedelta(days=7)
ACTION_REQUIRED_ACTIVITY = "ingeneo_powens.mail_activity_type_powens_action_required"
CONSENT_RENEWAL_ACTIVITY = "ingeneo_powens.mail_activity_type_powens_consent_renewal"

# Connection state groups (powens.values.connection_state_group) -> the bank's status.
STATE_BY_GROUP = {"ok": "connected", "user_action": "action_required", "transient": "temporary", "error": "error"}


class AccountJournal(models.Model):
    """What a Powens state or error means for the bank, and who must do what: the bank's
    status, the text the accountant reads, in their language, and the reminder of the person
    who must act; Powens' own code stays in the server log."""

    _inherit = "account.journal"

    def _powens_actor_lang(self):
        """The language of the person who must act on the bank: the user at the keyboard, or,
        for the scheduled retrieval, the person who connected it."""
        if self.env.user._is_superuser() or self.env.user._is_public():
            return self.powens_connection_id.connected_by_id.lang or self.env.lang
        return self.env.user.lang

    def _powens_state_advice(self, state, bank_message=None):
        """What to do about a connection ``state`` (False when it is fine), followed by the
        bank's own words when it gave some."""
        advice = self._powens_state_advices().get(state) if state else None
        if state and advice is None:
            advice = self.env._(
                "Powens cannot read this bank for now (state %(state)s): if it lasts more than two days, "
                "contact INGENEO support.",
                state=state,
            )
        if advice and bank_message:
            return self.env._("%(advice)s The bank says: %(message)s", advice=advice, message=bank_message)
        return advice or bank_message or False

    def _powens_state_advices(self):
        reconnect = self.env._(
            "The bank asks the account holder to authenticate again (strong authentication): click Reconnect "
            "and follow the bank's steps."
        )
        return {
            "SCARequired": reconnect,
            "webauthRequired": reconnect,
            "additionalInformationNeeded": self.env._(
                "The bank asks for more information, such as a code it sent: click Reconnect and enter it."
            ),
            "decoupled": self.env._(
                "The bank waits for the account holder to approve the access in their banking app: approve it, "
                "then click Reconnect."
            ),
            "validating": self.env._(
                "Powens is checking the account holder's approval: nothing to do, the next retrieval tells the outcome."
            ),
            "wrongpass": self.env._(
                "The bank refused the login or the password: the account holder must click Reconnect and enter "
                "their current ones."
            ),
            "passwordExpired": self.env._(
                "The bank password has expired: the account holder must change it on the bank's website, then "
                "click Reconnect."
            ),
            "actionNeeded": self.env._(
                "The bank asks the account holder to do something on its website (accept new terms, read a "
                "message): do it there, then click Reconnect."
            ),
            "rateLimiting": self.env._(
                "The bank limits the accesses for now: Powens tries again by itself, nothing to do."
            ),
            "websiteUnavailable": self.env._(
                "The bank's website is unavailable for now: Powens tries again by itself, nothing to do."
            ),
            "bug": self.env._(
                "Powens met an error while reading the bank: it tries again once fixed, nothing to do. If it "
                "lasts more than two days, contact INGENEO support."
            ),
        }

    def _powens_error_message(self, error):
        """The actionable message for a failed Powens call (a :class:`PowensError`)."""
        state_advice = self._powens_state_advices().get(error.code or "")
        if state_advice:
            return state_advice
        if error.code in WRONGPASS_ERROR_CODES:
            return self._powens_state_advices()["wrongpass"]
        if isinstance(error, errors.PowensNoAccount):
            return self.env._(
                "The account holder no longer shares this bank account with Powens: click Reconnect (or Choose "
                "the bank account) and tick it again."
            )
        if isinstance(error, errors.PowensRateLimited) or error.code == "tooManySync":
            return self.env._(
                "Powens' rate limit was reached: the retrieval is tried again at the next scheduled run, nothing to do."
            )
        if isinstance(error, errors.PowensAuthError):
            return self.env._(
                "Powens no longer accepts this company's access and could not renew it: check the POWENS "
                "settings (client ID and secret), then try again."
            )
        if isinstance(error, errors.PowensNotFound):
            return self.env._(
                "Powens no longer knows this bank's connection or account: disconnect the bank, then connect it again."
            )
        if error.code == "connectionLocked":
            return self.env._(
                "Powens has locked this connection for now: the retrieval is tried again later, nothing to do."
            )
        if isinstance(error, errors.PowensBadResponse):
            return self.env._(
                "Powens sent an answer that cannot be read: the retrieval is tried again later. If it lasts, "
                "contact INGENEO support."
            )
        if isinstance(error, (errors.PowensServerError, errors.PowensConnectionError)):
            return self.env._(
                "Powens could not be reached or is unavailable for now: the retrieval is tried again later. If "
                "it lasts, check the server's access to the Internet."
            )
        return self.env._(
            "Powens refused the retrieval (%(code)s): contact INGENEO support, the server log has the details.",
            code=error.code or error.http_status or "?",
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
