import logging
from collections import Counter

from odoo import api, fields, models
from odoo.tools import SQL

from ..powens.mapping import TransactionRejected, map_transaction
from .powens_counterparty import normalised_name

_logger = logging.getLogger(__name__)


class AccountBankStatementLine(models.Model):
    _inherit = "account.bank.statement.line"

    powens_transaction_id = fields.Char(
        string="Powens transaction ID",
        readonly=True,
        copy=False,
        help="The movement's identifier at Powens: a movement is imported once per journal.",
    )
    powens_original_wording = fields.Char(
        string="Bank wording", readonly=True, help="The wording exactly as the bank gave it."
    )
    powens_bank_date = fields.Date(
        string="Bank date",
        readonly=True,
        copy=False,
        help="The day the bank booked the movement. When it falls in a period the accountant has "
        "locked, the line is booked at the first open date instead: this keeps the bank's.",
    )
    powens_deleted_at = fields.Datetime(
        string="Deleted at the bank",
        readonly=True,
        copy=False,
        help="The bank no longer lists this movement; it stays here until the accountant decides.",
    )

    _powens_transaction_unique = models.Constraint(
        "UNIQUE(journal_id, powens_transaction_id)",
        "A Powens movement is imported once per journal.",
    )
    # The names the accountant tied to partners, looked up at each import (powens.counterparty).
    _powens_learned_name_index = models.Index(
        f"(company_id, {normalised_name(SQL.identifier('partner_name')).code}) WHERE partner_id IS NOT NULL"
    )

    @api.model
    def _powens_import_page(self, journal, payloads):
        """Apply one page of Powens transactions to ``journal``: booked movements become
        statement lines (with their counterparty's partner when recognised), pending ones
        wait aside, deletions are flagged, refused ones are kept for the next retrieval.
        Nothing dated before the bank's history start is imported, whichever path brings it
        (first pull, an old row edited at Powens, a notification). Idempotent: a page read
        twice (cursor margin, webhook and pull) changes nothing the second time.

        Returns the counts of the page, for the synchronisation log."""
        currency = journal.currency_id or journal.company_id.currency_id
        history_start = journal._powens_history_start()
        counts = Counter()
        movements = self._powens_map_page(journal, payloads, currency, history_start, counts)
        if not movements:
            return counts
        lines = self._powens_lines_by_id(journal, movements)
        pending = self.env["powens.pending.transaction"]._by_powens_id(journal, movements)
        to_create = []
        for powens_id, movement in movements.items():
            waiting = pending.get(powens_id)
            if movement.deleted:
                if waiting:
                    waiting.unlink()
                elif powens_id in lines:
                    counts["deleted"] += lines[powens_id]._powens_flag_deleted()
                continue
            if powens_id in lines:
                counts["known"] += 1
                continue
            if movement.booking_date < history_start:
                counts["before_history"] += 1
                continue
            if movement.pending:
                self.env["powens.pending.transaction"]._upsert(journal, movement, waiting)
                counts["pending"] += 1
                continue
            if waiting:
                waiting.unlink()
                counts["booked_pending"] += 1
            to_create.append(self._powens_line_values(journal, movement))
        if to_create:
            self.env["powens.counterparty"]._assign_partners(journal.company_id, to_create)
            created = self.sudo().with_company(journal.company_id).create(to_create)
            counts["new"] += len(created)
            counts["locked_period"] += len(created.filtered(lambda line: line.date != line.powens_bank_date))
        return counts

    @api.model
    def _powens_map_page(self, journal, payloads, currency, history_start, counts):
        """Map a page, the last state of each movement winning. A refused movement is kept
        with its reason (unless the bank deleted it, or it is older than the history);
        one that maps now leaves the refused list."""
        Refused = self.env["powens.refused.transaction"]
        ids = [
            str(payload["id"]) for payload in payloads if isinstance(payload, dict) and payload.get("id") is not None
        ]
        refused = Refused._by_powens_id(journal, ids)
        movements = {}
        for payload in payloads:
            try:
                movement = map_transaction(payload, account_currency=currency.name, precision=currency.decimal_places)
            except TransactionRejected as rejection:
                known = refused.pop(rejection.powens_id, Refused)
                bank_date = Refused._bank_date(payload)
                if isinstance(payload, dict) and payload.get("deleted") or (bank_date and bank_date < history_start):
                    known.sudo().unlink()
                    continue
                _logger.warning(
                    "Powens transaction %s of journal %s refused: %s",
                    rejection.powens_id or "?",
                    journal.id,
                    rejection.reason,
                )
                counts["rejected"] += 1
                counts["newly_rejected"] += not known
                if rejection.powens_id:  # without an id, nothing could read it again
                    refused[rejection.powens_id] = Refused._record(journal, rejection, payload, known)
                continue
            movements[movement.powens_id] = movement
            if movement.powens_id in refused:
                refused.pop(movement.powens_id).sudo().unlink()
        return movements

    @api.model
    def _powens_lines_by_id(self, journal, movements):
        """The journal's lines already imported for these movements, in one query."""
        lines = self.sudo().search(
            [
                ("journal_id", "=", journal.id),
                ("powens_transaction_id", "in", list(movements)),
            ]
        )
        return {line.powens_transaction_id: line for line in lines}

    @api.model
    def _powens_line_values(self, journal, movement):
        values = {
            "journal_id": journal.id,
            # The booking date: the day the bank booked the movement on the account, the
            # date of the bank statement the accountant reconciles against (not the value
            # date, not the card payment date). A plain date, never converted from a time.
            "date": movement.booking_date,
            "powens_bank_date": movement.booking_date,
            "amount": float(movement.amount),
            "payment_ref": movement.label,
            "powens_original_wording": movement.original_wording,
            "partner_name": movement.partner_name or False,
            "account_number": movement.partner_account_number or False,
            "transaction_type": movement.transaction_type,
            "transaction_details": movement.payload,
            "powens_transaction_id": movement.powens_id,
        }
        if movement.foreign_currency:
            # Odoo refuses lines in an inactive currency: the foreign amount then stays in the
            # transaction details, and the line is booked in the journal's currency alone.
            foreign = self.env["res.currency"].search([("name", "=", movement.foreign_currency)], limit=1)
            if foreign:
                values.update(foreign_currency_id=foreign.id, amount_currency=float(movement.foreign_amount))
        return values

    def _powens_flag_deleted(self):
        """Flag a movement the bank no longer lists, for the accountant to decide: the line,
        its amount and its reconciliation stay untouched. Returns 1 when newly flagged."""
        self.ensure_one()
        if self.powens_deleted_at:
            return 0
        self.sudo().powens_deleted_at = fields.Datetime.now()
        return 1
