"""Nothing refused forever, nothing lost quietly: a movement the mapping refuses (Powens allows
`value: null`) is kept with its reason, shown on the bank, read again at the next retrieval
even when the cursor has moved past it, and imported once when it maps; only the fields the
statement line needs can refuse a movement, and a card PAN never becomes an account number."""

from odoo.tests import TransactionCase, tagged

from ..models.powens_retrieval import CURSOR_MARGIN
from .test_powens_sync import ConnectedBankCase


@tagged("post_install", "-at_install")
class TestRefusedMovements(ConnectedBankCase, TransactionCase):
    def sync(self):
        self.env["powens.retrieval"]._retrieve(self.bank, "cron")
        return self.env["powens.sync.log"].search([("journal_id", "=", self.bank.id)], limit=1)

    def add_movements(self, count):
        return self.sandbox.control(
            "POST", f"/_sandbox/accounts/{self.account.powens_id}/transactions", {"count": count}
        )["ids"]

    def edit(self, powens_id, **changes):
        """Change a movement at Powens; deleted after the case, so the next cases' first pulls
        (the sandbox outlives each case) leave it aside without a word."""
        self.addCleanup(self.sandbox.control, "POST", f"/_sandbox/transactions/{powens_id}/delete")
        return self.sandbox.control("POST", f"/_sandbox/transactions/{powens_id}/edit", changes)

    def lines_of(self, powens_id):
        return self.env["account.bank.statement.line"].search(
            [("journal_id", "=", self.bank.id), ("powens_transaction_id", "=", str(powens_id))]
        )

    def later(self):
        """Powens' clock past the cursor's margin: a pull no longer re-reads what it saw."""
        seconds = CURSOR_MARGIN.total_seconds() + 3600
        self.sandbox.control("POST", "/_sandbox/clock", {"advance_seconds": seconds})
        self.addCleanup(self.sandbox.control, "POST", "/_sandbox/clock", {"advance_seconds": -seconds})

    def settled_sync(self):
        """The first retrieval, then the next one, which re-reads what changed within the
        cursor's margin: from then on a pull brings only what changes."""
        log = self.sync()
        self.later()
        self.sync()
        self.later()
        return log

    def test_a_refused_movement_is_kept_shown_and_imported_once_it_maps(self):
        refused_id, sound_id = self.add_movements(2)
        stamp = self.edit(refused_id, value=None)["last_update"]
        log = self.settled_sync()
        self.assertEqual((log.rejected_count, log.error), (1, False))
        self.assertFalse(self.lines_of(refused_id))
        self.assertEqual(len(self.lines_of(sound_id)), 1)
        refused = self.bank.powens_refused_ids
        self.assertEqual(
            (refused.powens_transaction_id, refused.problem, refused.reason),
            (str(refused_id), "amount", "value is not a finite amount"),
        )
        self.env["res.lang"]._activate_lang("fr_FR")
        self.env["ir.module.module"]._load_module_terms(["ingeneo_powens"], ["fr_FR"])
        problem_in_french = dict(
            refused.with_context(lang="fr_FR")
            ._fields["problem"]
            ._description_selection(refused.with_context(lang="fr_FR").env)
        )["amount"]
        self.assertEqual(problem_in_french, "Montant invalide", "the reason in the accountant's language")
        self.assertTrue(refused.date and refused.payload["id"] == refused_id)
        self.assertTrue(self.account.last_update_cursor, "the cursor moved past it: the list brings it back")
        self.assertTrue(
            self.bank.message_ids.filtered(
                lambda message: "1 movement(s) could not be imported" in (message.body or "")
            ),
            "the bank says it",
        )
        self.assertTrue(self.bank.with_user(self.setup_user).powens_refused_ids, "shown on the bank's POWENS tab")

        # Powens fixes the amount without a new `last_update` (undocumented either way): the
        # cursor would never bring it back; the refused list does.
        self.edit(refused_id, value=-12.34, last_update=stamp)
        log = self.sync()
        line = self.lines_of(refused_id)
        self.assertEqual((len(line), line.amount), (1, -12.34))
        self.assertEqual((log.new_count, log.rejected_count), (1, 0))
        self.assertFalse(self.bank.powens_refused_ids, "it left the refused list")
        self.sync()
        self.assertEqual(len(self.lines_of(refused_id)), 1, "imported once")

    def test_a_movement_still_refused_is_tried_again_at_each_retrieval(self):
        refused_id = self.add_movements(1)[0]
        self.edit(refused_id, value=None)
        self.settled_sync()
        attempts = self.bank.powens_refused_ids.attempt_count
        self.sandbox.control("DELETE", "/_sandbox/calls")
        log = self.sync()
        self.assertEqual(log.rejected_count, 1)
        self.assertEqual(self.bank.powens_refused_ids.attempt_count, attempts + 1)
        told = self.bank.message_ids.filtered(lambda message: "could not be imported" in (message.body or ""))
        self.assertEqual(len(told), 1, "the bank says it once, not at each retrieval")
        paths = [call["path"] for call in self.sandbox.control("GET", "/_sandbox/calls")]
        self.assertIn(f"/2.0/users/me/transactions/{refused_id}", paths, "read again by its id")

    def test_a_refused_movement_changed_at_powens_comes_through_the_pull_once(self):
        refused_id = self.add_movements(1)[0]
        self.edit(refused_id, value=None)
        self.settled_sync()
        self.edit(refused_id, value=-7.5)  # a new last_update: the pull brings it
        self.sandbox.control("DELETE", "/_sandbox/calls")
        log = self.sync()
        self.assertEqual((log.new_count, log.rejected_count), (1, 0))
        self.assertEqual(self.lines_of(refused_id).amount, -7.5)
        self.assertFalse(self.bank.powens_refused_ids)
        paths = [call["path"] for call in self.sandbox.control("GET", "/_sandbox/calls")]
        self.assertNotIn(f"/2.0/users/me/transactions/{refused_id}", paths, "no second read")

    def test_a_refused_movement_the_bank_deletes_leaves_the_list(self):
        refused_id = self.add_movements(1)[0]
        self.edit(refused_id, value=None)
        self.sync()
        self.sandbox.control("POST", f"/_sandbox/transactions/{refused_id}/delete")
        self.sync()
        self.assertFalse(self.bank.powens_refused_ids)
        self.assertFalse(self.lines_of(refused_id))

    def test_fields_the_line_does_not_need_never_refuse_a_movement(self):
        odd_id = self.add_movements(1)[0]
        self.edit(odd_id, vdate="soon", last_update=None)
        log = self.sync()
        self.assertEqual((len(self.lines_of(odd_id)), log.rejected_count), (1, 0))
        self.assertFalse(self.bank.powens_refused_ids)

    def test_a_card_pan_never_becomes_the_counterparty_account_number(self):
        card_ids = self.add_movements(3)
        self.sync()
        for powens_id in card_ids:
            line = self.lines_of(powens_id)
            counterparty = line.transaction_details["counterparty"]
            self.assertEqual(counterparty["account_scheme_name"], "cpan")
            self.assertTrue(counterparty["account_identification"])
            self.assertFalse(line.account_number, "a card number is not a bank account")
            self.assertEqual(line.partner_name, counterparty["label"])


@tagged("post_install", "-at_install")
class TestCursorWhateverPowensZone(ConnectedBankCase, TransactionCase):
    """Powens' naive `last_update` stamps are read as Paris time by production clients; the
    documentation says nothing. The pull's cursor loses nothing either way."""

    def check_change_after_a_pull_arrives(self, zone):
        self.sandbox.control("POST", "/_sandbox/settings", {"naive_timezone": zone})
        self.addCleanup(self.sandbox.control, "POST", "/_sandbox/settings", {"naive_timezone": "Europe/Paris"})
        self.env["powens.retrieval"]._retrieve(self.bank, "cron")
        self.sandbox.control("POST", "/_sandbox/clock", {"advance_seconds": 1800})
        self.addCleanup(self.sandbox.control, "POST", "/_sandbox/clock", {"advance_seconds": -1800})
        late = self.sandbox.control("POST", f"/_sandbox/accounts/{self.account.powens_id}/transactions", {"count": 1})[
            "ids"
        ][0]
        self.env["powens.retrieval"]._retrieve(self.bank, "cron")
        self.assertTrue(
            self.env["account.bank.statement.line"].search_count(
                [("journal_id", "=", self.bank.id), ("powens_transaction_id", "=", str(late))]
            ),
            f"a change stamped half an hour after the pull ({zone} stamps) arrives at the next one",
        )

    def test_paris_stamps(self):
        self.check_change_after_a_pull_arrives("Europe/Paris")

    def test_utc_stamps(self):
        self.check_change_after_a_pull_arrives("UTC")
