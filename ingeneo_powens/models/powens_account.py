from odoo import api, fields, models

from odoo.addons.base.models.res_bank import sanitize_account_number

from ..powens.values import parse_amount

# How many trailing characters of an IBAN or account number the display name shows.
MASK_KEEP = 4


class PowensAccount(models.Model):
    """One bank account reached through a Powens connection; it feeds at most one bank
    journal of the accounting referential."""

    _name = "powens.account"
    _description = "Powens bank account"
    _order = "connection_id, name, id"

    name = fields.Char(required=True, readonly=True)
    connection_id = fields.Many2one("powens.connection", required=True, readonly=True, ondelete="cascade")
    company_id = fields.Many2one(related="connection_id.company_id", store=True, index=True)
    powens_id = fields.Integer(string="Powens account ID", required=True, readonly=True)
    iban = fields.Char(string="IBAN", readonly=True)
    number = fields.Char(string="Account number", readonly=True)
    account_type = fields.Char(string="Type", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    balance = fields.Monetary(readonly=True, currency_field="currency_id")
    enabled = fields.Boolean(
        readonly=True, help="Enabled at Powens: the account holder consented to share its transactions."
    )
    journal_ids = fields.One2many("account.journal", "powens_account_id", string="Journals")
    last_update_cursor = fields.Datetime(
        string="Changes imported up to",
        readonly=True,
        copy=False,
        help="Powens' time of the newest change imported; the next retrieval asks for the "
        "changes after it. It moves only once every line before it is committed.",
    )
    journal_id = fields.Many2one("account.journal", compute="_compute_journal_id")

    _powens_id_unique = models.Constraint(
        "UNIQUE(connection_id, powens_id)", "A Powens account is recorded once per connection."
    )

    @api.depends("journal_ids")
    def _compute_journal_id(self):
        for account in self:
            account.journal_id = account.journal_ids[:1]

    @api.depends("name", "iban", "number")
    def _compute_display_name(self):
        """The name and the last characters of the IBAN (or number), enough to tell a
        company's accounts apart: Odoo computes a many2one's display name as superuser, for
        whoever reads the record pointing to the account (a journal, a wizard), so the full
        IBAN stays in the account's own field, for those who may read the account."""
        for account in self:
            identifier = account.iban or account.number
            masked = f"…{identifier[-MASK_KEEP:]}" if identifier and len(identifier) > MASK_KEEP else identifier
            account.display_name = f"{account.name} ({masked})" if masked else account.name

    @api.model
    def _sync_from_powens(self, connection, accounts_data):
        """Create or update the accounts Powens lists for ``connection`` and return them."""
        existing = {account.powens_id: account for account in connection.account_ids}
        accounts = self.browse()
        for data in accounts_data:
            values = {
                "name": data.get("name") or data.get("original_name") or str(data["id"]),
                "iban": sanitize_account_number(data.get("iban") or "") or False,
                "number": data.get("number") or False,
                "account_type": data.get("type") if isinstance(data.get("type"), str) else False,
                "currency_id": self._currency_from_powens(data.get("currency")).id,
                "balance": float(parse_amount(data["balance"])) if data.get("balance") is not None else 0.0,
                "enabled": not data.get("disabled"),
            }
            account = existing.get(int(data["id"]))
            if account:
                account.write(values)
            else:
                account = self.create(dict(values, connection_id=connection.id, powens_id=int(data["id"])))
            accounts |= account
        return accounts

    @api.model
    def _sync_from_connection_data(self, connection, connection_data, client):
        """The accounts of ``connection`` from Powens' ``connection_data``, read with the
        ``all_accounts`` expansion so that one request brings its state and its accounts;
        listed apart only when Powens did not expand them."""
        accounts_data = connection_data.get("all_accounts")
        if not isinstance(accounts_data, list):
            accounts_data = client.list_accounts(connection.powens_id)
        return self._sync_from_powens(connection, accounts_data)

    def _currency_from_powens(self, currency):
        code = currency.get("id") if isinstance(currency, dict) else currency
        if not code:
            return self.env["res.currency"]
        return self.env["res.currency"].with_context(active_test=False).search([("name", "=", code)], limit=1)
