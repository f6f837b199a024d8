from odoo import api, fields, models

from ..powens.mapping import storable
from ..powens.values import parse_date


class PowensRefusedTransaction(models.Model):
    """A movement Powens served that could not become a statement line (say a null amount,
    which Powens allows): kept with the reason, shown on the bank, read again at each
    retrieval until it maps, then imported once and removed from here. The pull's cursor may
    move past it: this list, not the cursor, is what brings it back."""

    _name = "powens.refused.transaction"
    _description = "Refused bank movement (Powens)"
    _order = "date desc, id desc"

    journal_id = fields.Many2one(
        "account.journal", string="Bank", required=True, readonly=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="journal_id.company_id", store=True)
    powens_transaction_id = fields.Char(string="Powens transaction ID", readonly=True)
    date = fields.Date(string="Bank date", readonly=True, help="The movement's date at the bank, when readable.")
    # What is wrong, in the accountant's language; Powens' field and problem, in its own terms,
    # behind it (the detail never quotes the content).
    problem = fields.Selection(
        [
            ("structure", "Unreadable movement"),
            ("identifier", "Missing or invalid identifier"),
            ("date", "Invalid date"),
            ("amount", "Invalid amount"),
            ("currency", "Invalid currency"),
            ("text", "Unreadable label"),
            ("status", "Pending or booked: unreadable"),
        ],
        string="Reason",
        readonly=True,
    )
    reason = fields.Char(string="Detail", required=True, readonly=True)
    refused_at = fields.Datetime(string="Last refused on", required=True, readonly=True)
    attempt_count = fields.Integer(string="Attempts", readonly=True, default=1)
    payload = fields.Json(string="Powens data", readonly=True)

    _powens_transaction_unique = models.Constraint(
        "UNIQUE(journal_id, powens_transaction_id)", "A refused movement is listed once per bank."
    )

    @api.model
    def _by_powens_id(self, journal, powens_ids):
        """The bank's refused movements among ``powens_ids``, in one query."""
        refused = self.sudo().search(
            [("journal_id", "=", journal.id), ("powens_transaction_id", "in", list(powens_ids))]
        )
        return {row.powens_transaction_id: row for row in refused}

    @api.model
    def _record(self, journal, rejection, payload, existing):
        """Keep (or refresh) the refusal of ``payload``; the reason never quotes its content."""
        values = {
            "problem": rejection.problem,
            "reason": rejection.reason,
            "refused_at": fields.Datetime.now(),
            "date": self._bank_date(payload),
            # What Powens sent, made storable: a refused payload may hold NUL or lone surrogates.
            "payload": storable(payload if isinstance(payload, dict) else {"value": payload}),
        }
        if existing:
            existing.write(dict(values, attempt_count=existing.attempt_count + 1))
            return existing
        return self.sudo().create(dict(values, journal_id=journal.id, powens_transaction_id=rejection.powens_id))

    @staticmethod
    def _bank_date(payload):
        """The movement's booking date when it can be read, for the history bound and the list."""
        try:
            return parse_date(payload.get("date")) if isinstance(payload, dict) else None
        except ValueError:
            return None
