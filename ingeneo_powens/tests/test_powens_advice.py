"""Every Powens state and error the add-on can meet reads, on the bank, as what happened and
who must do what, in the language of whoever must act (French here), never as Powens' raw
code (issue 14)."""

from odoo.tests import TransactionCase, tagged

from ..powens import errors
from ..powens.const import TRANSIENT_STATES, USER_ACTION_STATES

# What the person must do (or that nothing is to be done), in INGENEO's French.
WHAT_TO_DO = (
    "Reconnecter",
    "rien à faire",
    "support INGENEO",
    "déconnectez la banque",
    "paramétrage POWENS",
    "accès du serveur à Internet",
    "retentée plus tard",
)

ERRORS = [
    errors.PowensWrongPass(code="wrongpass"),
    errors.PowensError(code="SCARequired"),
    errors.PowensNoAccount(code="noAccount"),
    errors.PowensRateLimited(code="tooManyRequests", http_status=429),
    errors.PowensError(code="tooManySync"),
    errors.PowensAuthError(code="invalidToken", http_status=401),
    errors.PowensNotFound(code="notFound", http_status=404),
    errors.PowensError(code="connectionLocked", http_status=409),
    errors.PowensBadResponse("not JSON"),
    errors.PowensServerError(code="internalServerError", http_status=500),
    errors.PowensTimeout("timed out"),
    errors.PowensError(code="somethingPowensInventsTomorrow", http_status=400),
]


@tagged("post_install", "-at_install")
class TestPowensAdvice(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("fr_FR")
        cls.bank = cls.env["account.journal"].create({"name": "Banque", "type": "bank"}).with_context(lang="fr_FR")

    def assertActionable(self, text, raw_code):
        self.assertTrue(any(words in text for words in WHAT_TO_DO), text)
        if raw_code:
            self.assertNotIn(raw_code, text, "Powens' code stays in the server log")

    def test_every_state_says_what_to_do_in_french(self):
        for state in sorted(USER_ACTION_STATES | TRANSIENT_STATES | {"wrongpass", "passwordExpired", "actionNeeded"}):
            with self.subTest(state=state):
                advice = self.bank._powens_state_advice(state)
                self.assertNotEqual(advice, self.bank.with_context(lang="en_US")._powens_state_advice(state))
                self.assertActionable(advice, state)

    def test_a_state_powens_adds_later_is_still_explained(self):
        advice = self.bank._powens_state_advice("someNewState", "Message de la banque.")
        self.assertIn("support INGENEO", advice)
        self.assertTrue(advice.endswith("Message de la banque."), "the bank's own words come after")

    def test_every_error_says_what_to_do_in_french(self):
        for error in ERRORS:
            with self.subTest(error=type(error).__name__, code=error.code):
                message = self.bank._powens_error_message(error)
                self.assertNotEqual(message, self.bank.with_context(lang="en_US")._powens_error_message(error))
                known = error.code != "somethingPowensInventsTomorrow"
                self.assertActionable(message, error.code if known else None)
