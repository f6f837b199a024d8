import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..const import SETUP_GROUP
from ..powens import PowensError
from ..powens.mapping import TransactionRejected, map_transaction

_logger = logging.getLogger(__name__)

BALANCE_GAP_ACTIVITY = "ingeneo_powens.mail_activity_type_powens_balance_gap"
OPENING_BALANCE_STATES = [
    ("to_create", "To create"),
    ("created", "Created"),
    ("not_needed", "Not needed"),
    ("explained", "The journal had lines before"),
]
# The journal items of a bank's account that make its balance, as Odoo counts them
# (account.journal._get_journal_bank_account_balance).
NOT_AN_AMOUNT = ("line_section", "line_subsection", "line_note")


class AccountJournal(models.Model):
    """The journal equals the bank (issue 16 §1 and §2): the balance at the start of the
    history after the first retrieval, then, after every retrieval, the journal's balance
    compared with the bank's booked balance at Powens, a gap located, read again once, and
    told to the accountant."""

    _inherit = "account.journal"

    powens_journal_currency_id = fields.Many2one(
        "res.currency", compute="_compute_powens_journal_currency_id", string="Journal currency"
    )
    powens_opening_state = fields.Selection(
        OPENING_BALANCE_STATES,
        string="Opening balance",
        readonly=True,
        copy=False,
        help="Set after the bank's first retrieval: whether the journal needs the balance at the "
        "start of the history, and whether it was entered.",
    )
    powens_opening_balance = fields.Monetary(
        string="Balance at the start of the history",
        currency_field="powens_journal_currency_id",
        readonly=True,
        copy=False,
        groups=SETUP_GROUP,
        help="The bank's booked balance at Powens minus the movements of the first retrieval.",
    )
    powens_opening_date = fields.Date(
        string="Start of the history",
        readonly=True,
        copy=False,
        help="The day before the first movement of the first retrieval: the opening balance's date.",
    )
    powens_opening_line_id = fields.Many2one(
        "account.bank.statement.line", string="Opening balance line", readonly=True, copy=False, ondelete="set null"
    )
    powens_explained_difference = fields.Monetary(
        string="Difference explained by the earlier lines",
        currency_field="powens_journal_currency_id",
        readonly=True,
        copy=False,
        groups=SETUP_GROUP,
        help="The difference with the bank right after the first retrieval of a journal that "
        "already had lines: theirs to explain, never corrected automatically.",
    )
    powens_without_gap_until = fields.Date(
        string="Without gap until",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="The last day on which the journal's balance equals the bank's booked balance at Powens.",
    )
    powens_gap_amount = fields.Monetary(
        string="Gap with the bank",
        currency_field="powens_journal_currency_id",
        readonly=True,
        copy=False,
        groups=SETUP_GROUP,
        help="The bank's booked balance minus the journal's, that reading Powens' movements again "
        "did not close (zero when the journal follows the bank).",
    )
    powens_gap_since = fields.Date(
        string="Gap since",
        readonly=True,
        copy=False,
        help="The first day on which the balances diverge, as far as Powens' movements tell.",
    )

    @api.depends("currency_id", "company_id.currency_id")
    def _compute_powens_journal_currency_id(self):
        for journal in self:
            journal.powens_journal_currency_id = journal.currency_id or journal.company_id.currency_id

    # --- Opening balance ----------------------------------------------------------------------

    def action_powens_create_opening_balance(self):
        """ "Create the opening balance": one statement line, the day before the first
        movement, of the balance computed after the first retrieval; offered once, and only
        while the journal holds nothing but the retrieved movements."""
        self._powens_check_can_connect()
        self.ensure_one()
        # As superuser, as the retrieval writes the movements: the holder of the right need
        # not hold Odoo's bank-statement rights, and the amount is the add-on's, not typed.
        journal = self.sudo()
        if journal.powens_opening_state == "created":
            raise UserError(self.env._("The opening balance of this bank was already created."))
        if journal.powens_opening_state != "to_create":
            raise UserError(self.env._("This bank has no opening balance to create."))
        if journal._powens_other_lines_count():
            raise UserError(
                self.env._(
                    "Lines were entered in this journal since the first retrieval: the computed opening "
                    "balance would be wrong. Enter it yourself from the bank's statement."
                )
            )
        line = (
            self.env["account.bank.statement.line"]
            .sudo()
            .with_company(journal.company_id)
            .create(
                {
                    "journal_id": journal.id,
                    "date": journal.powens_opening_date,
                    "amount": journal.powens_opening_balance,
                    "payment_ref": self.env._(
                        "Opening balance: the bank's balance at Powens minus the movements retrieved"
                    ),
                }
            )
        )
        journal.write({"powens_opening_state": "created", "powens_opening_line_id": line.id})
        journal.message_post(
            author_id=self.env.user.partner_id.id,
            body=self.env._(
                "Opening balance created by %(user)s on %(date)s.",
                user=self.env.user.name,
                date=fields.Date.to_string(journal.powens_opening_date),
            ),
        )
        journal._powens_check_continuity()
        return True

    def _powens_other_lines_count(self):
        """The journal's statement lines that no retrieval brought (the opening balance's
        apart): lines the journal had before Powens, or entered since."""
        self.ensure_one()
        return (
            self.env["account.bank.statement.line"]
            .sudo()
            .search_count(
                [
                    ("journal_id", "=", self.id),
                    ("powens_transaction_id", "=", False),
                    ("id", "!=", self.powens_opening_line_id.id),
                ]
            )
        )

    def _powens_record_opening_balance(self, bank_balance, journal_balance):
        """After the first full retrieval: the bank's booked balance minus the movements it
        brought is the balance at the start of the history. Offered when the journal holds
        those movements only; otherwise the difference is the earlier lines', explained."""
        self.ensure_one()
        currency = self.powens_journal_currency_id
        lines = self.env["account.bank.statement.line"].sudo()
        retrieved, first_day = lines._read_group(
            [("journal_id", "=", self.id), ("powens_transaction_id", "!=", False)],
            aggregates=["amount:sum", "powens_bank_date:min"],
        )[0]
        retrieved = retrieved or 0.0
        opening = currency.round(bank_balance - retrieved)
        values = {"powens_opening_date": (first_day or self._powens_history_start()) - timedelta(days=1)}
        if self._powens_other_lines_count() or currency.compare_amounts(journal_balance, retrieved):
            values.update(
                powens_opening_state="explained",
                powens_explained_difference=currency.round(bank_balance - journal_balance),
            )
        else:
            values.update(
                powens_opening_state="not_needed" if currency.is_zero(opening) else "to_create",
                powens_opening_balance=opening,
            )
        self.write(values)

    def _powens_expected_difference(self):
        """The part of the difference with the bank that is no gap: the opening balance not
        entered yet, or what the journal's earlier lines explain."""
        if self.powens_opening_state == "to_create":
            return self.powens_opening_balance
        if self.powens_opening_state == "explained":
            return self.powens_explained_difference
        return 0.0

    # --- Continuity ---------------------------------------------------------------------------

    def _powens_check_continuity(self):
        """After a retrieval that read the bank's balance: does the journal follow the bank?
        Costs one query for the journal's balance when it does; a gap that appears is located
        and read again from Powens once (not at every hourly retrieval it lasts)."""
        for journal in self.sudo():
            account = journal.powens_account_id
            if not account.last_update_cursor or journal.powens_state == "waiting":
                # No full retrieval yet, or Powens has not delivered the bank's history (48 to
                # 72 hours): the bank's balance is then all of it, and would be taken for an
                # opening balance that the history, once here, would count twice.
                continue
            currency = journal.powens_journal_currency_id
            bank_balance = currency.round(account.balance)
            journal_balance, _count = journal._get_journal_bank_account_balance()
            if not journal.powens_opening_state:
                journal._powens_record_opening_balance(bank_balance, journal_balance)
            gap = journal._powens_gap(bank_balance, journal_balance)
            if currency.is_zero(gap):
                journal._powens_mark_without_gap()
            elif currency.compare_amounts(gap, journal.powens_gap_amount):
                journal._powens_investigate_gap(gap)

    def _powens_gap(self, bank_balance, journal_balance):
        currency = self.powens_journal_currency_id
        return currency.round(bank_balance - journal_balance - self._powens_expected_difference())

    def _powens_mark_without_gap(self):
        today = fields.Date.today()
        had_gap = bool(self.powens_gap_since)
        if self.powens_without_gap_until != today or had_gap:
            self.write({"powens_without_gap_until": today, "powens_gap_amount": 0.0, "powens_gap_since": False})
        if had_gap:
            self._powens_remind(BALANCE_GAP_ACTIVITY, False, None, None)

    def _powens_investigate_gap(self, gap):
        """A new gap: locate the day the balances diverge, read the bank's movements at Powens
        again once, from the start of the history, through the normal import (a movement the
        journal has is recognised, one it lacks is imported), then judge what remains."""
        currency = self.powens_journal_currency_id
        first_day = self.powens_opening_date + timedelta(days=1)
        journal_before = self._powens_journal_amounts_by_day(first_day)
        try:
            listed = self._powens_read_again(first_day)
        except PowensError as error:
            _logger.warning("Powens re-read of journal %s for a balance gap failed: %s", self.id, error)
            return  # the next retrieval tries again: the gap is not recorded yet
        diverging_since, _until = self._powens_locate_divergence(gap, listed.by_day, journal_before, first_day)
        journal_balance, _count = self._get_journal_bank_account_balance()
        remaining = self._powens_gap(currency.round(self.powens_account_id.balance), journal_balance)
        if currency.is_zero(remaining):
            if listed.new_count:
                self.message_post(
                    body=self.env._(
                        "The journal's balance differed from the bank's from %(date)s: reading the bank's "
                        "movements again from Powens brought %(count)s missing movement(s), the journal follows "
                        "the bank again.",
                        date=fields.Date.to_string(diverging_since),
                        count=listed.new_count,
                    )
                )
            self._powens_mark_without_gap()
            return
        journal_after = self._powens_journal_amounts_by_day(first_day)
        since, until = self._powens_locate_divergence(remaining, listed.by_day, journal_after, first_day)
        self.write({"powens_gap_amount": remaining, "powens_gap_since": since, "powens_without_gap_until": until})
        # One activity, for the person who connected the bank: the accountant who connected it,
        # or who sent the connection request (the manager who only typed the credentials is
        # never it); every holder of the right would each get the same task.
        self._powens_remind(
            BALANCE_GAP_ACTIVITY,
            True,
            fields.Date.today(),
            self.env._(
                "The journal's balance differs from the bank's by %(amount)s since %(date)s, although the bank's "
                "movements were read again from Powens: compare the journal with the bank's statements from that "
                "day (POWENS tab of the bank).",
                amount=currency.format(remaining),
                date=fields.Date.to_string(since),
            ),
        )

    def _powens_read_again(self, first_day):
        """The bank's balance read again, then one paged read of its movements booked from
        ``first_day`` to today, each page imported as a retrieval imports it. Returns the
        booked amounts per day. The balance is read again because the retrieval read it
        before its pages: a movement Powens added in between is not a gap."""
        client = self._powens_client()
        currency = self.powens_journal_currency_id
        retrieval = self.env["powens.retrieval"]
        retrieval._refresh_connection(self, client, forced=False)
        listed = _Listing()
        pages = client.iter_transaction_pages(
            self.powens_account_id.powens_id,
            min_date=first_day,
            max_date=fields.Date.today(),
            date_filter="date",
            include_deleted=True,
        )
        for page in pages:
            listed.new_count += retrieval._import_page(self, page).get("new", 0)
            for payload in page:
                try:
                    movement = map_transaction(
                        payload, account_currency=currency.name, precision=currency.decimal_places
                    )
                except TransactionRejected:
                    continue  # listed with the refused movements, in no balance of the journal
                if not movement.pending and not movement.deleted:
                    listed.by_day[movement.booking_date] += float(movement.amount)
        return listed

    def _powens_locate_divergence(self, gap, listed_by_day, journal_by_day, first_day):
        """The first day the balances diverge and the last one they agree, going back from
        today: the bank's balance at the end of a day is its booked balance minus the
        movements Powens lists after that day; the journal's, its balance minus its entries
        after that day. When they never agree within Powens' movements (a balance the listed
        movements do not explain), the last day known without a gap stands, yesterday at the
        latest: today's retrieval found the gap."""
        currency = self.powens_journal_currency_id
        difference = gap
        for day in sorted(set(listed_by_day) | set(journal_by_day), reverse=True):
            difference = currency.round(difference - listed_by_day.get(day, 0.0) + journal_by_day.get(day, 0.0))
            if currency.is_zero(difference):
                return day, day - timedelta(days=1)
        yesterday = fields.Date.today() - timedelta(days=1)
        until = min(self.powens_without_gap_until or first_day - timedelta(days=1), yesterday)
        return until + timedelta(days=1), until

    def _powens_journal_amounts_by_day(self, first_day):
        """The journal's entries on its bank account from ``first_day``, summed per day in one
        query (the items Odoo's own balance of the journal counts)."""
        foreign = self.currency_id and self.currency_id != self.company_id.currency_id
        amount = "amount_currency:sum" if foreign else "balance:sum"
        rows = (
            self.env["account.move.line"]
            .sudo()
            ._read_group(
                [
                    ("account_id", "in", self.default_account_id.ids),
                    ("display_type", "not in", NOT_AN_AMOUNT),
                    ("parent_state", "!=", "cancel"),
                    ("date", ">=", first_day),
                ],
                groupby=["date:day"],
                aggregates=[amount],
            )
        )
        return dict(rows)


@dataclass
class _Listing:
    """What a re-read found: the booked amounts per day, and how many movements it imported."""

    by_day: defaultdict = field(default_factory=lambda: defaultdict(float))
    new_count: int = 0
