from odoo import api, fields, models


class PowensPendingTransaction(models.Model):
    """A movement the bank lists as pending ("coming"): shown on the bank, never posted.
    It disappears when the bank books it (under the same id or a new one) or drops it."""

    _name = "powens.pending.transaction"
    _description = "Pending bank movement (Powens)"
    _order = "date desc, id desc"

    journal_id = fields.Many2one("account.journal", required=True, readonly=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="journal_id.company_id", store=True)
    powens_transaction_id = fields.Char(required=True, readonly=True)
    date = fields.Date(readonly=True)
    label = fields.Char(readonly=True)
    amount = fields.Monetary(readonly=True, currency_field="currency_id")
    currency_id = fields.Many2one("res.currency", readonly=True)

    _powens_transaction_unique = models.Constraint(
        "UNIQUE(journal_id, powens_transaction_id)", "A pending movement is listed once per journal."
    )

    @api.model
    def _by_powens_id(self, journal, movements):
        """The journal's pending movements among ``movements``, in one query."""
        pending = self.sudo().search(
            [("journal_id", "=", journal.id), ("powens_transaction_id", "in", list(movements))]
        )
        return {row.powens_transaction_id: row for row in pending}

    @api.model
    def _upsert(self, journal, movement, existing):
        values = {
            "date": movement.booking_date,
            "label": movement.label,
            "amount": float(movement.amount),
            "currency_id": (journal.currency_id or journal.company_id.currency_id).id,
        }
        if existing:
            existing.write(values)
        else:
            self.sudo().create(dict(values, journal_id=journal.id, powens_transaction_id=movement.powens_id))
