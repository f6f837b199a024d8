import hashlib
import logging
from datetime import UTC, datetime, timedelta

from odoo import SUPERUSER_ID, api, fields, models, tools
from odoo.exceptions import UserError
from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY
from odoo.tools import SQL

from .. import const
from ..powens import WebhookSignatureError, webhooks
from ..powens.const import SIGNATURE_TOLERANCE_SECONDS
from ..powens.values import naive_utc

_logger = logging.getLogger(__name__)

OUTCOMES = [
    ("processed", "Processed"),
    ("busy", "Left to the retrieval running"),
    ("deferred", "Left to the scheduled retrieval, started at once"),
    ("ignored", "Ignored"),
]


class PowensWebhookEvent(models.Model):
    """One notification from Powens, accepted (signature checked) and acted upon: kept so that
    a delivery sent again (same ``id_webhook_data``) changes nothing the second time, and so
    that the accountant can tell what Powens notified and what became of it."""

    _name = "powens.webhook.event"
    _description = "Powens notification"
    _order = "received_at desc, id desc"
    _rec_name = "event_type"

    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True, ondelete="cascade")
    webhook_data_id = fields.Char(
        string="Powens delivery ID",
        readonly=True,
        help="Powens' id_webhook_data: one notification, however often it is delivered. For a "
        "delivery without one, a digest of its signature, so that a replay is recognised.",
    )
    event_type = fields.Char(string="Event", required=True, readonly=True)
    received_at = fields.Datetime(required=True, readonly=True, index=True)
    signed_at = fields.Datetime(string="Signed by Powens at", readonly=True)
    outcome = fields.Selection(OUTCOMES, readonly=True)
    summary = fields.Char(readonly=True)
    connection_id = fields.Many2one("powens.connection", readonly=True, ondelete="set null")

    # Also what makes two simultaneous deliveries of one notification wait for each other.
    _webhook_data_unique = models.Constraint(
        "UNIQUE(company_id, webhook_data_id)", "A Powens notification is processed once."
    )

    # --- Authentication ------------------------------------------------------------------

    @api.model
    def _powens_webhook_secrets(self):
        """``{secret: signers}``: each configured webhook secret with the contracts it belongs
        to, as ``(model, id)`` pairs: the database's and the companies' own. Companies on one
        contract share its secret, so a delivery costs one HMAC per distinct secret.

        Decrypted once per registry, not at every delivery: the database's secret and those of
        the few companies carrying their own (a write of a secret clears the cache, on every
        worker). A secret that cannot be decrypted is left out (logged)."""
        return {secret: frozenset(signers) for secret, signers in self._powens_webhook_secret_pairs()}

    @api.model
    @tools.ormcache()
    def _powens_webhook_secret_pairs(self):
        # As the superuser: the request is the public user's, and the secrets are readable by
        # system administrators only.
        with_secret = [("powens_webhook_secret_encrypted", "!=", False)]
        holders = [
            *self.env["powens.contract"].sudo().search(with_secret),
            *self.env["res.company"].sudo().search(with_secret),
        ]
        by_secret = {}
        for holder in holders:
            try:
                secret = holder._powens_read_secret("powens_webhook_secret_encrypted")
            except UserError:
                _logger.warning("Powens webhook secret of %s %s cannot be decrypted", holder._name, holder.id)
                continue
            by_secret.setdefault(secret, set()).add((holder._name, holder.id))
        return tuple((secret, tuple(sorted(signers))) for secret, signers in by_secret.items())

    @api.model
    def _powens_signing_companies(self, signers):
        """The companies using the contracts that verified a delivery."""
        companies = self.env["res.company"].sudo()
        for model, holder_id in signers:
            contract = self.env[model].sudo().browse(holder_id)
            if model == "powens.contract":
                companies |= contract._powens_companies()
            elif contract._powens_has_own_contract():
                companies |= contract
        return companies

    @api.model
    def _powens_authenticate(self, delivery):
        """Return the company an authenticated delivery is for, or raise
        WebhookSignatureError. The contract the company of the delivery's Powens user uses
        must be one whose webhook secret verified it: a holder of one contract's secret acts
        on the companies of that contract only. A delivery without ``id_webhook_data`` cannot
        be recognised when replayed later: its signature must be fresh. Reads only; nothing
        may change before this returned."""
        payload = delivery.payload
        if not webhooks.as_id(payload.get("id_webhook_data")):
            tolerance = timedelta(seconds=SIGNATURE_TOLERANCE_SECONDS)
            if abs(datetime.now(UTC) - delivery.signed_at) > tolerance:
                raise WebhookSignatureError("signature date too old for a delivery without id_webhook_data")
        powens_user_id = webhooks.powens_user_id(delivery.event, payload)
        if not powens_user_id:
            raise WebhookSignatureError("no Powens user in the delivery")
        company = self.env["res.company"]._powens_company_of_user(powens_user_id)
        if not company:
            raise WebhookSignatureError("no company for this Powens user")
        contract = company._powens_contract()
        if (contract._name, contract.id) not in delivery.signers:
            raise WebhookSignatureError("not signed with the webhook secret of the contract this company uses")
        return company

    @api.model
    def _powens_handle_delivery(self, delivery):
        """Act on a delivery whose signature was verified (``powens.webhooks.read_delivery``):
        authenticate its company, then process it in the current transaction. Returns the
        outcome for the answer (200).

        :raises WebhookRefused: 403 unless its company uses the contract that signed it; 500
            when processing failed: everything is rolled back and Powens delivers it again
            (a concurrency error is raised as is, for Odoo to serve the request again)."""
        if delivery.payload is None:
            companies = self._powens_signing_companies(delivery.signers)
            outcome = self._powens_receive_unread(companies, delivery.event, delivery.signed_at, delivery.size)
            _logger.info(
                "Powens webhook %s too long to be read at once (%s bytes as sent): %s",
                delivery.event,
                delivery.size,
                outcome,
            )
            return outcome
        try:
            company = self._powens_authenticate(delivery)
        except WebhookSignatureError as error:
            raise webhooks.WebhookRefused(403, error) from None
        payload = delivery.payload
        try:
            outcome = self._powens_receive(company, delivery.event, payload, delivery.signed_at, delivery.signature)
        except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY:
            raise  # Odoo rolls back and serves the request again
        except Exception as error:
            self.env.cr.rollback()
            # The traceback at DEBUG only: database errors quote the rows they refused (bank data).
            _logger.error(
                "Powens webhook %s (delivery %s) of company %s failed (%s); rolled back for Powens to deliver it again",
                delivery.event,
                payload.get("id_webhook_data"),
                company.id,
                type(error).__name__,
            )
            _logger.debug("Powens webhook failure", exc_info=True)
            raise webhooks.WebhookRefused(500, "not processed, send again") from None
        _logger.info(
            "Powens webhook %s (delivery %s) of company %s: %s",
            delivery.event,
            payload.get("id_webhook_data"),
            company.id,
            outcome,
        )
        return outcome

    # --- Processing ------------------------------------------------------------------------

    @api.model
    def _powens_receive(self, company, event_type, payload, signed_at=None, signature=None):
        """Act on an authenticated delivery, once per ``id_webhook_data`` (once per
        ``signature`` for a delivery without one), in the current transaction; return the
        outcome ("duplicate" when already processed). Never calls Powens. An exception leaves
        the transaction to be rolled back, the delivery then answered 500 and sent again by
        Powens (the next retrieval would bring it anyway)."""
        # As the superuser (the request is the public user's) in the delivery's company.
        events = self.with_user(SUPERUSER_ID).with_company(company)
        event = events._powens_register(company, event_type, payload, signed_at, signature)
        if not event:
            return "duplicate"
        handler = {
            webhooks.CONNECTION_SYNCED: event._powens_on_connection_synced,
            webhooks.ACCOUNT_SYNCED: event._powens_on_account_synced,
            webhooks.CONNECTION_DELETED: event._powens_on_connection_deleted,
            webhooks.USER_DELETED: event._powens_on_user_deleted,
        }.get(event_type)
        if handler:
            handler(payload)
        else:
            _logger.debug("Powens notification %s ignored (event not handled)", event_type)
            event.write({"outcome": "ignored", "summary": events.env._("Event not handled.")})
        return event.outcome

    @api.model
    def _powens_receive_unread(self, signing_companies, event_type, signed_at, size):
        """Acknowledge an authenticated delivery too long to be read at once (a first sync of
        many thousand movements): it is recorded for each company whose secret signed it, as
        its Powens user cannot be known without reading it, and the scheduled retrieval,
        started now, brings its content from Powens. Return the outcome."""
        summary = self.env._(
            "Too long to be read at once (%(size)s MB): the scheduled retrieval was started.",
            size=round(size / 1024 / 1024, 1),
        )
        for company in signing_companies:
            self.with_user(SUPERUSER_ID).with_company(company).create(
                {
                    "company_id": company.id,
                    "event_type": event_type or "UNKNOWN",
                    "outcome": "deferred",
                    "received_at": fields.Datetime.now(),
                    "signed_at": naive_utc(signed_at),
                    "summary": summary,
                }
            )
        self.env.ref("ingeneo_powens.ir_cron_powens_sync")._trigger()
        return "deferred"

    def _powens_register(self, company, event_type, payload, signed_at, signature=None):
        """Record the delivery; an empty recordset when this notification was processed
        before. A concurrent delivery of the same notification waits here until the first
        one's transaction ends (unique index), then finds it processed, or takes over."""
        delivery_id = webhooks.as_id(payload.get("id_webhook_data"))
        values = {
            "company_id": company.id,
            "event_type": event_type or "UNKNOWN",
            "received_at": fields.Datetime.now(),
            "signed_at": naive_utc(signed_at),
        }
        if delivery_id:
            key = str(delivery_id)
        elif signature:
            # The same signature is the same delivery replayed: recognised as a duplicate too.
            key = "signature-" + hashlib.sha256(signature.encode()).hexdigest()[:32]
        else:
            return self.create(values)
        if self.search_count([("company_id", "=", company.id), ("webhook_data_id", "=", key)], limit=1):
            return self.browse()
        self.env.cr.execute(
            SQL(
                """INSERT INTO powens_webhook_event
                   (company_id, webhook_data_id, event_type, received_at, signed_at,
                    create_uid, write_uid, create_date, write_date)
               VALUES (%s, %s, %s, %s, %s, %s, %s, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC')
               ON CONFLICT (company_id, webhook_data_id) DO NOTHING
               RETURNING id""",
                company.id,
                key,
                values["event_type"],
                values["received_at"],
                values["signed_at"] or None,
                self.env.uid,
                self.env.uid,
            )
        )
        row = self.env.cr.fetchone()
        return self.browse(row[0]) if row else self.browse()

    def _powens_on_connection_synced(self, payload):
        """A sync of the connection ended: its state, then the new movements of each of its
        accounts feeding a bank."""
        data = payload.get("connection")
        data = data if isinstance(data, dict) else {}
        connection = self._powens_known_connection(data.get("id"))
        if connection:
            self.connection_id = connection
            connection._sync_from_powens(self.company_id, data)
        accounts = data.get("accounts")
        accounts = [item for item in accounts if isinstance(item, dict)] if isinstance(accounts, list) else []
        journals = self.env["account.journal"]
        if connection:
            journals = self.env["account.journal"].search(
                [
                    ("company_id", "=", self.company_id.id),
                    ("powens_connection_id", "=", connection.id),
                    ("powens_account_id", "!=", False),
                ]
            )
        by_journal = {journal: [] for journal in journals}
        for account_data in accounts:
            for journal in self._powens_journals_of_account(account_data, connection):
                by_journal.setdefault(journal, []).extend(self._powens_transactions(account_data))
        self._powens_apply_to_journals(by_journal)

    def _powens_on_account_synced(self, payload):
        """A sync of one account ended: the payload is the account, with its new movements."""
        connection = self._powens_known_connection(payload.get("id_connection"))
        if connection:
            self.connection_id = connection
        by_journal = {
            journal: self._powens_transactions(payload)
            for journal in self._powens_journals_of_account(payload, connection)
        }
        self._powens_apply_to_journals(by_journal)

    def _powens_apply_to_journals(self, by_journal):
        """Import each bank's movements through the retrieval's own code path, and apply the
        connection's state, for the banks no retrieval is running on; a running one brings the
        same movements and state itself (the cursor is the pull's alone)."""
        if not by_journal:
            self.write({"outcome": "ignored", "summary": self.env._("No bank fed by this account or connection.")})
            return
        if sum(map(len, by_journal.values())) > const.WEBHOOK_INLINE_IMPORT_MAX:
            # Too long to import while Powens waits (it gives up after two timeouts): the
            # scheduled retrieval, started now, brings the same movements.
            self.env.ref("ingeneo_powens.ir_cron_powens_sync")._trigger()
            self.env["account.journal"].union(*by_journal)._powens_notified(applied=False)
            self.write(
                {
                    "outcome": "deferred",
                    "summary": self.env._("Too many movements to import at once: the scheduled retrieval was started."),
                }
            )
            return
        summary, busy = [], False
        retrieval = self.env["powens.retrieval"]
        for journal, transactions in by_journal.items():
            result = retrieval._retrieve(journal, "webhook", delivered=transactions)
            if result.busy:
                busy = True
                summary.append(self.env._("%(bank)s: a retrieval is running, left to it", bank=journal.name))
                continue
            summary.append(
                self.env._(
                    "%(bank)s: %(new)s new, %(known)s already there, %(pending)s pending",
                    bank=journal.name,
                    new=result.new_count,
                    known=result.counts.get("known", 0),
                    pending=result.counts.get("pending", 0),
                )
            )
        self.env["account.journal"].union(*by_journal)._powens_notified(applied=True)
        self.write({"outcome": "busy" if busy else "processed", "summary": "; ".join(summary)[:1000]})

    def _powens_on_connection_deleted(self, payload):
        """The connection no longer exists at Powens: its banks are disconnected."""
        connection = self._powens_known_connection(payload.get("id"))
        if not connection:
            self.write({"outcome": "ignored", "summary": self.env._("Unknown connection.")})
            return
        self.connection_id = connection
        journals = connection._disconnect_banks(
            self.env._("Disconnected: the connection was deleted at Powens; the imported movements are kept.")
        )
        self.write(
            {
                "outcome": "processed",
                "summary": self.env._("Banks disconnected: %(banks)s", banks=", ".join(journals.mapped("name")) or "-"),
            }
        )

    def _powens_on_user_deleted(self, payload):
        """A Powens user of the company was deleted, with all its connections: the banks it
        held are disconnected, and its dead token forgotten (the bank's next connection creates
        a new user). One the add-on deleted itself was forgotten already: acknowledged."""
        user = (
            self.env["powens.user"]
            .with_context(active_test=False)
            .search(
                [
                    ("company_id", "=", self.company_id.id),
                    ("powens_id", "=", webhooks.powens_user_id(webhooks.USER_DELETED, payload) or 0),
                ],
                limit=1,
            )
        )
        if not user.active:
            self.write({"outcome": "ignored", "summary": self.env._("Powens user already forgotten.")})
            return
        journals = user._powens_forget(
            self.env._("Disconnected: the bank's Powens user was deleted; the imported movements are kept.")
        )
        self.write(
            {
                "outcome": "processed",
                "summary": self.env._("Banks disconnected: %(banks)s", banks=", ".join(journals.mapped("name")) or "-"),
            }
        )

    # --- Lookups ---------------------------------------------------------------------------------

    def _powens_known_connection(self, powens_id):
        """The company's connection with this Powens id (archived ones too); never created
        from a notification: the webview callback records connections."""
        powens_id = webhooks.as_id(powens_id)
        if not powens_id:
            return self.env["powens.connection"]
        return (
            self.env["powens.connection"]
            .with_context(active_test=False)
            .search([("company_id", "=", self.company_id.id), ("powens_id", "=", powens_id)], limit=1)
        )

    def _powens_journals_of_account(self, account_data, connection):
        """The banks of the company fed by its account ``account_data["id"]``: a bank of
        another company never receives this company's movements, however it got linked."""
        powens_id = webhooks.as_id(account_data.get("id"))
        if not powens_id:
            return self.env["account.journal"]
        domain = [("company_id", "=", self.company_id.id), ("powens_id", "=", powens_id)]
        if connection:
            domain.append(("connection_id", "=", connection.id))
        accounts = self.env["powens.account"].search(domain)
        return accounts.journal_ids.filtered(
            lambda journal: journal.company_id == self.company_id and journal.powens_state != "disconnected"
        )

    @staticmethod
    def _powens_transactions(account_data):
        transactions = account_data.get("transactions")
        return [item for item in transactions if isinstance(item, dict)] if isinstance(transactions, list) else []

    # --- Housekeeping ------------------------------------------------------------------------

    @api.autovacuum
    def _gc_powens_webhook_events(self):
        """Forget notifications older than the retention period: Powens never sends one again
        after that long, and the retrieval logs keep what they brought."""
        limit = fields.Datetime.now() - timedelta(days=const.WEBHOOK_EVENT_RETENTION_DAYS)
        self.sudo().search([("received_at", "<", limit)]).unlink()
