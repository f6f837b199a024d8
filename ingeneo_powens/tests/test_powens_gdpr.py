"""GDPR erasure: "Disconnect" and "Delete the Powens user" remove the data at Powens and the
token here; the consent records stay, withdrawn and exportable; uninstalling the add-on
leaves no token behind."""

from odoo.exceptions import UserError
from odoo.tests import TransactionCase, tagged

from .. import uninstall_hook
from ..powens import PowensError, PowensNotFound
from .common import PowensSandboxMixin

CONSENT_EXPORT = [
    "journal_id",
    "user_id",
    "consented_at",
    "remote_address",
    "text_version",
    "consent_text",
    "revoked_at",
]


@tagged("post_install", "-at_install")
class TestPowensErasure(PowensSandboxMixin, TransactionCase):
    def setUp(self):
        """Each test erases at Powens: each one starts with Powens users of its own, one per bank."""
        super().setUp()
        self.second_bank = self.env["account.journal"].create(
            {"name": "Banque seconde", "type": "bank", "company_id": self.company.id}
        )
        self.connections = self.env["powens.connection"]
        for journal in (self.bank, self.second_bank):
            connection = self.connect_at_powens(journal, accounts=1)
            journal._powens_link_account(connection.account_ids)
            self.sandbox.control(
                "POST", f"/_sandbox/accounts/{connection.account_ids.powens_id}/transactions", {"count": 5}
            )
            self.connections |= connection
        self.bank.with_user(self.setup_user).action_powens_sync()

    def tokens(self, company=None):
        """The clear tokens of the company's Powens users."""
        company = company or self.company
        users = self.env["powens.user"].sudo().search([("company_id", "=", company.id)])
        return [company._powens_unseal(user.token_encrypted) for user in users if user.token_encrypted]

    def stored_tokens(self):
        """The Powens users whose token the database still holds."""
        self.env.flush_all()
        self.env.cr.execute("SELECT id FROM powens_user WHERE token_encrypted IS NOT NULL")
        return [row[0] for row in self.env.cr.fetchall()]

    def lines(self):
        return self.env["account.bank.statement.line"].search([("journal_id", "=", self.bank.id)])

    def exists_at_powens(self, token):
        try:
            self.company._powens_client().with_token(token).get_me()
        except PowensError:
            return False
        return True

    def assert_consents_withdrawn_and_exportable(self, journals):
        """The proof of what was agreed stays, withdrawn, and the holder exports it (with
        Odoo's own "Export" right, which gates every export)."""
        self.setup_user.group_ids += self.env.ref("base.group_allow_export")
        consents = self.env["powens.consent"].with_user(self.setup_user).search([("journal_id", "in", journals.ids)])
        self.assertEqual(consents.journal_id, journals)
        self.assertTrue(all(consents.mapped("revoked_at")))
        rows = consents.export_data(CONSENT_EXPORT)["datas"]
        self.assertEqual(len(rows), len(consents))
        self.assertTrue(all(row[0] and row[1] and row[2] for row in rows), "who agreed, for which bank, when")

    def test_disconnect_deletes_the_connection_at_powens_and_keeps_the_lines_and_consents(self):
        lines = self.lines()
        self.assertTrue(lines)
        connection = self.bank.powens_connection_id
        client = self.bank._powens_client()
        self.bank.with_user(self.setup_user).action_powens_disconnect()
        with self.assertRaises(PowensNotFound):
            client.get_connection(connection.powens_id)
        self.assertEqual(self.bank.powens_state, "disconnected")
        self.assertFalse(connection.active)
        self.assertEqual(self.lines(), lines, "the imported movements stay")
        self.assert_consents_withdrawn_and_exportable(self.bank)
        self.assertEqual(self.second_bank.powens_state, "waiting", "the other bank keeps its connection")

    def test_delete_the_powens_user_erases_it_at_powens_and_the_token_here(self):
        """Every Powens user of the company, one per bank, is deleted."""
        tokens, lines = self.tokens(), self.lines()
        self.assertEqual(len(tokens), 2, "one Powens user per bank")
        self.company.with_user(self.setup_user).action_powens_delete_user()
        self.assertFalse([token for token in tokens if self.exists_at_powens(token)])
        self.assertEqual(self.stored_tokens(), [])
        self.assertFalse(self.company.powens_user_count)
        self.assertEqual(
            len(self.env["powens.user"].with_context(active_test=False).search([("company_id", "=", self.company.id)])),
            2,
            "kept archived, so that Powens' notification is recognised",
        )
        banks = self.bank | self.second_bank
        self.assertEqual(set(banks.mapped("powens_state")), {"disconnected"})
        self.assertFalse(self.connections.filtered("active"))
        self.assertEqual(self.lines(), lines)
        self.assertTrue(all("deleted the company's Powens user" in bank.message_ids[0].body for bank in banks))
        self.assert_consents_withdrawn_and_exportable(banks)
        self.company._powens_create_user(self.bank)
        self.assertEqual(len(self.tokens()), 1)
        self.assertNotIn(self.tokens()[0], tokens, "the next connection starts with a new Powens user")

    def test_delete_the_powens_user_fails_clearly_and_keeps_everything_when_powens_refuses(self):
        """Nothing is forgotten here while the data still exists at Powens."""
        tokens = self.tokens()
        self.sandbox.control(
            "POST", "/_sandbox/faults", {"kind": "429", "retry_after": 120, "path": "/users/me", "count": 2}
        )
        with self.assertRaisesRegex(UserError, "could not delete"):
            self.company.with_user(self.setup_user).action_powens_delete_user()
        self.assertEqual(self.tokens(), tokens)
        self.assertEqual(self.bank.powens_state, "connected")

    def test_delete_the_powens_users_keeps_the_one_powens_did_not_delete_and_says_so(self):
        """One bank's user deleted, the other's refused by Powens: the first is forgotten, the
        second kept with its token, and the holder is told."""
        tokens = self.tokens()
        self.sandbox.control("POST", "/_sandbox/faults", {"kind": "429", "retry_after": 120, "path": "/users/me"})
        action = self.company.with_user(self.setup_user).action_powens_delete_user()
        self.assertEqual(action["params"]["type"], "warning")
        self.assertIn("could not delete", action["params"]["message"])
        kept = self.tokens()
        self.assertEqual(len(kept), 1)
        self.assertIn(kept[0], tokens)
        self.assertTrue(self.exists_at_powens(kept[0]))
        states = (self.bank | self.second_bank).mapped("powens_state")
        self.assertEqual(states.count("disconnected"), 1, "the bank whose user Powens deleted, only")

    def test_uninstall_leaves_no_token_and_deletes_the_powens_users(self):
        """The uninstall hook, on two companies: one whose Powens user is deleted, one whose
        Powens refuses (best effort, logged): neither keeps a token."""
        other = self.env["res.company"].create({"name": "INGENEO Filiale"})
        self.configure_powens(other)
        other._powens_create_user(
            self.env["account.journal"].create({"name": "Banque filiale", "type": "bank", "company_id": other.id})
        )
        tokens = {token: company for company in (self.company, other) for token in self.tokens(company)}
        self.assertEqual(len(self.stored_tokens()), 3)
        self.sandbox.control(
            "POST", "/_sandbox/faults", {"kind": "429", "retry_after": 120, "path": "/users/me", "count": 1}
        )
        with self.assertLogs("odoo.addons.ingeneo_powens.models.res_company", "WARNING") as logs:
            uninstall_hook(self.env)
        self.assertEqual(len(logs.records), 1, "one company's Powens refused, and it was logged")
        self.assertEqual(self.stored_tokens(), [])
        remaining = [token for token in tokens if self.exists_at_powens(token)]
        self.assertEqual(len(remaining), 1, "the other users were deleted at Powens")
        for token in tokens:
            self.assertNotIn(token, logs.output[0])
