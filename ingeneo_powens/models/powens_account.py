from collections import Counter
from datetime import timedelta

from odoo import api, fields, models

from odoo.addons.base.models.res_bank import sanitize_account_number

from ..powens import PowensNotFound
from ..powens.values import naive_utc, parse_amount

# A pull that began when Powens' clock read T has seen every change stamped before T, but for
# the changes Powens' parallel writers stamped just before T and committed just after: the
# cursor stays this margin behind T. It also absorbs a skew of our clock when Powens' answer
# carries no Date header. A movement read twice costs one lookup; one skipped is a line lost.
PARALLEL_WRITERS_MARGIN = timedelta(minutes=15)
# The `last_update` filter is written in Paris time, as production clients read Powens' naive
# stamps; nothing documents it. Were Powens' stamps UTC, the text would name an instant up to
# two hours (Paris summer time) later than meant: the margin covers that as well.
PARIS_UTC_OFFSET_MAX = timedelta(hours=2)
CURSOR_MARGIN = PARALLEL_WRITERS_MARGIN + PARIS_UTC_OFFSET_MAX
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

    def _pull_into(self, journal, commit_page, page_size=1000, client=None):
        """Import every transaction of this account changed since the cursor (the first time,
        every one booked since the bank's history start) into ``journal``, one page at a time;
        ``commit_page(count)`` runs after each page. The cursor moves at the end only: an
        interrupted pull starts again from the same point, and the lines it had already
        imported are recognised. Then the movements refused earlier are read again. Powens
        serves at most 1000 per page; ``client`` is the retrieval's own, when it has one already.

        The cost of a pull grows with what changed since the last one, not with the
        history: the next pull starts from when this one began (by Powens' clock)."""
        self.ensure_one()
        client = client or self.connection_id._powens_client()
        started_at = fields.Datetime.now()
        if self.last_update_cursor:
            filters = {"last_update": self.last_update_cursor}
        else:
            # `min_date` applies to `application_date` unless told otherwise; the history
            # start is a booking date, the statement line's.
            filters = {"min_date": journal._powens_history_start(), "date_filter": "date"}
        totals = Counter()
        refused_earlier = {row: row.attempt_count for row in journal.sudo().powens_refused_ids}
        served_at = None
        pages = client.iter_transaction_pages(self.powens_id, include_deleted=True, limit=page_size, **filters)
        for page in pages:
            served_at = served_at or naive_utc(page.served_at) or started_at
            totals.update(self._import_page(journal, page))
            commit_page(len(page))
        pulled_up_to = (served_at or started_at) - CURSOR_MARGIN
        self.sudo().last_update_cursor = max(filter(None, (self.last_update_cursor, pulled_up_to)))
        totals.update(self._retry_refused(journal, client, refused_earlier))
        return totals

    def _import_page(self, journal, page):
        """One page in a savepoint of its own: a page Odoo refuses leaves the transaction
        clean, so its failure can be recorded and the other banks retrieved."""
        with self.env.cr.savepoint():
            return self.env["account.bank.statement.line"]._powens_import_page(journal, page)

    def _retry_refused(self, journal, client, refused_earlier):
        """Read again, one by one, the movements refused before this pull that its pages did
        not bring (``refused_earlier``: refusal -> attempts then): the ones that map now are
        imported; the ones Powens no longer has leave the list."""
        counts = Counter()
        for refused, attempts in refused_earlier.items():
            if not refused.exists() or refused.attempt_count != attempts:
                continue
            try:
                payload = client.get_transaction(int(refused.powens_transaction_id))
            except PowensNotFound:
                refused.unlink()
                continue
            counts.update(self._import_page(journal, [payload]))
        return counts

    def _currency_from_powens(self, currency):
        code = currency.get("id") if isinstance(currency, dict) else currency
        if not code:
            return self.env["res.currency"]
        return self.env["res.currency"].with_context(active_test=False).search([("name", "=", code)], limit=1)
