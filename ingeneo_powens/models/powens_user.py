import logging

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..powens import PowensError, PowensNotFound

_logger = logging.getLogger(__name__)


class PowensUser(models.Model):
    """One user at Powens, holding the connections of one bank of the referential.

    A temporary code opens Powens' webview on everything its user holds (the ``manage`` flow
    lists, deletes and disables every connection of that user): one user per bank is what
    keeps a code handed to someone for one bank from reaching any other bank. The user of a
    database older than that (one per company, the migration's ``legacy`` user) keeps the
    connections it holds; new connections always go to their bank's own user.

    Deleted users stay archived, token forgotten: a notification about them is still
    attributed to their company."""

    _name = "powens.user"
    _description = "Powens user"
    _order = "id desc"
    _rec_name = "powens_id"

    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True, ondelete="cascade")
    journal_id = fields.Many2one(
        "account.journal",
        string="Bank",
        readonly=True,
        index="btree_not_null",
        ondelete="set null",
        help="The bank whose connections this user holds; empty for the company's user of "
        "before one user per bank, which may hold several banks.",
    )
    powens_id = fields.Integer(string="Powens user ID", required=True, readonly=True)
    token_encrypted = fields.Char(string="Encrypted token", groups="base.group_system", copy=False)
    api_url = fields.Char(
        string="Issued by",
        readonly=True,
        help="The Powens API the token was issued by: it is never sent anywhere else.",
    )
    connection_ids = fields.One2many("powens.connection", "user_id", string="Connections")
    active = fields.Boolean(default=True, readonly=True)

    # Archived users keep their id: the same id issued again (another domain) must not clash.
    _powens_id_unique = models.UniqueIndex("(powens_id) WHERE active", "A Powens user is recorded once.")
    _one_user_per_bank = models.UniqueIndex(
        "(journal_id) WHERE active AND journal_id IS NOT NULL", "A bank has one Powens user."
    )

    @api.model
    def _create_for(self, journal, client):
        """Create at Powens (auth/init) the user of ``journal`` and keep its token, encrypted.
        Called with the bank's row locked, so that two tabs never create two users for it."""
        auth = client.init_user()
        company = journal.company_id.sudo()
        return self.sudo().create(
            {
                "company_id": company.id,
                "journal_id": journal.id,
                "powens_id": int(auth["id_user"]),
                "token_encrypted": company._powens_seal(auth["auth_token"]),
                "api_url": company._powens_contract().powens_api_url,
            }
        )

    def _powens_client(self):
        """The Powens client bound to this user's token; refused once the token is forgotten,
        or when the company now points at another Powens than the one that issued it."""
        self.ensure_one()
        user = self.sudo()
        company = user.company_id
        client = company._powens_client()
        if not user.token_encrypted or user.api_url != company._powens_contract().powens_api_url:
            raise UserError(
                self.env._(
                    "The Powens access of this bank was lost (the Powens settings changed or its user "
                    "was deleted): disconnect the bank and connect it again."
                )
            )
        return client.with_token(
            company._powens_unseal(user.token_encrypted),
            user_id=user.powens_id,
            on_token_renewed=user._powens_keep_renewed_token,
        )

    def _powens_keep_renewed_token(self, token):
        """Keep the token Powens renewed (``/auth/renew``) after refusing the stored one,
        revoked or expired."""
        user = self.sudo()
        user.token_encrypted = user.company_id._powens_seal(token)

    def _powens_delete(self, message):
        """Delete these users at Powens (one already gone is fine), each then forgotten here
        (``message`` on its banks); one whose token was forgotten already cannot be reached.
        Returns ``{user: error}`` for those Powens did not delete, kept as they are: their data
        still exists there."""
        failures = {}
        for user in self.sudo():
            try:
                if user.token_encrypted:
                    user._powens_client().delete_me()
            except PowensNotFound:
                _logger.info("Powens user %s was already deleted at Powens", user.powens_id)
            except (PowensError, UserError) as error:
                failures[user] = error
                continue
            user._powens_forget(message)
        return failures

    def _powens_forget(self, message):
        """These users are gone at Powens: the banks their connections fed are disconnected
        (``message`` on each), the connections archived, the tokens forgotten; the users stay,
        archived, so that a later notification about them is still recognised. Returns the
        banks."""
        users = self.sudo()
        connections = users.with_context(active_test=False).connection_ids
        journals = connections._disconnect_banks(message)
        users.write({"token_encrypted": False, "active": False})
        return journals
