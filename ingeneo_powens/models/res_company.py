import logging
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.fields import Domain

from odoo.addons.base.models.res_bank import sanitize_account_number

from ..const import REQUEST_VALIDITY_DAYS, SETUP_GROUP
from ..powens import PowensAuthError, PowensError
from ..powens.webhooks import as_id
from .powens_contract_mixin import CONTRACT_COLUMNS, POWENS_CONTRACT_FIELDS

_logger = logging.getLogger(__name__)

# What a holder of the right may change on the company without being allowed to edit it.
POWENS_SETTINGS_FIELDS = POWENS_CONTRACT_FIELDS | {'powens_history_start', 'powens_request_validity_days'}

# A temporary code no Powens user was ever given: exchanging it can only fail, as a bad code
# when the client credentials are right, as an authentication error when they are not.
CREDENTIALS_PROBE_CODE = "ingeneo-credentials-probe"

# Powens ids are compared with integer columns: anything larger names nobody.
POSTGRES_INTEGER_MAX = 2**31 - 1

CONTRACT_SOURCES = [
    ("database", "Database contract"),
    ("company", "Own contract of the company"),
]


class ResCompany(models.Model):
    """A company uses the database's Powens contract, unless it carries one of its own
    (its ``powens_*`` contract fields, from the mixin), which then wins as a whole:
    ``_powens_contract()`` says which."""

    _name = "res.company"
    _inherit = ["res.company", "powens.contract.mixin"]

    bank_journal_ids = fields.One2many(
        "account.journal",
        "company_id",
        string="Bank Journals",
        domain=[("type", "=", "bank")],
        help="The banks of the company's accounting referential: each one is a bank journal "
        "that can then be connected to Powens.",
    )

    # --- Powens settings ------------------------------------------------------------------

    powens_contract_source = fields.Selection(
        CONTRACT_SOURCES,
        string="Powens contract used",
        compute="_compute_powens_contract_source",
        help="The database's contract (Settings), unless the company carries a contract of its own, "
        "which then replaces it as a whole.",
    )
    powens_database_contract_id = fields.Many2one(
        "powens.contract",
        string="Database contract",
        compute="_compute_powens_contract_source",
        groups=SETUP_GROUP,
    )
    powens_history_start = fields.Date(
        string="Retrieve movements from",
        groups=SETUP_GROUP,
        help="The first retrieval of a bank imports its movements from this date (as far as "
        "the bank gives them). Empty: one year back.",
    )
    powens_request_validity_days = fields.Integer(
        string="Connection requests valid for (days)",
        groups=SETUP_GROUP,
        default=REQUEST_VALIDITY_DAYS,
        help="How long the user asked to connect a bank has to do it before the request expires.",
    )
    powens_user_ids = fields.One2many(
        "powens.user",
        "company_id",
        string="Powens users",
        groups=SETUP_GROUP,
        readonly=True,
        help="One Powens user per bank connected, each holding that bank's connections only.",
    )
    powens_user_count = fields.Integer(
        string="Number of Powens users",
        compute="_compute_powens_user_count",
        groups=SETUP_GROUP,
        help="The company's Powens users that still exist at Powens.",
    )

    _powens_request_validity_positive = models.Constraint(
        "CHECK(powens_request_validity_days > 0)", "A connection request must stay valid at least one day."
    )

    @api.depends("powens_user_ids")
    def _compute_powens_user_count(self):
        for company in self:
            company.powens_user_count = len(company.sudo().powens_user_ids)

    @api.depends(*CONTRACT_COLUMNS)
    def _compute_powens_contract_source(self):
        database_contract = self.env["powens.contract"]._powens_database()
        for company in self:
            own = company._powens_has_own_contract()
            company.powens_contract_source = "company" if own else "database"
            company.powens_database_contract_id = False if own else database_contract

    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.su and any(vals.keys() & POWENS_CONTRACT_FIELDS for vals in vals_list):
            self._powens_check_contract_right()
        return super().create(vals_list)

    def write(self, vals):
        """Holders of the accounting-setup right configure Powens without the right to edit
        the company: a write of Powens settings only is checked here, then done as superuser.
        The contract is a system administrator's, however it is written. Every change of a
        Powens setting goes to the company's chatter."""
        settings = vals.keys() & POWENS_SETTINGS_FIELDS
        if not settings:
            return super().write(vals)
        if not self.env.su:
            self._powens_check_setup_right()
            if settings & POWENS_CONTRACT_FIELDS:
                self._powens_check_contract_right()
        before = {company: company._powens_settings_values() for company in self}
        origins = {company: company._powens_contract()._powens_origin() for company in self}
        if settings == vals.keys() and not self.env.su:
            result = super(ResCompany, self.sudo()).write(vals)
        else:
            result = super().write(vals)
        for company, values in before.items():
            after = company._powens_settings_values()
            company._powens_log_settings_change({name for name, value in values.items() if after[name] != value})
            if company._powens_contract()._powens_origin() != origins[company]:
                company._powens_forget_tokens()
        return result

    def _powens_settings_values(self):
        """The stored Powens settings, to tell afterwards which ones a write changed."""
        self.ensure_one()
        company = self.sudo()
        return {
            **self._powens_contract_snapshot(),
            **{name: company[name] for name in POWENS_SETTINGS_FIELDS - POWENS_CONTRACT_FIELDS},
        }

    # --- The contract used ---------------------------------------------------------------------

    @api.model
    def _powens_database_contract_domain(self):
        """The companies using the database's contract: none of their own contract's fields set."""
        return Domain.AND(Domain(column, "=", False) for column in CONTRACT_COLUMNS)

    def _powens_has_own_contract(self):
        """Whether the company carries a contract of its own: any of its contract fields set
        (then all of them come from it, never a mix with the database's)."""
        self.ensure_one()
        company = self.sudo()
        return any(company[column] for column in CONTRACT_COLUMNS)

    def _powens_contract(self):
        """The Powens contract this company uses, as superuser: its own when it carries one,
        else the database's. The single place deciding it, for the client, the webview, the
        connection test, the host checks, the tokens' origin and the webhooks."""
        self.ensure_one()
        if self._powens_has_own_contract():
            return self.sudo()
        return self.env["powens.contract"]._powens_database()

    def _powens_contract_label(self):
        return self.name

    def action_powens_use_database_contract(self):
        """Give up the company's own contract: it then uses the database's (system
        administrators only; its Powens users are forgotten when that is another Powens)."""
        self._powens_check_contract_right()
        self.write(dict.fromkeys(CONTRACT_COLUMNS, False))
        return True

    def action_open_powens_settings(self):
        """The Powens settings of the current company, for holders who are not allowed into
        the Settings app."""
        self._powens_check_setup_right()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("POWENS settings"),
            "res_model": "res.company",
            "res_id": self.id,
            "view_mode": "form",
            "views": [(self.env.ref("ingeneo_powens.res_company_view_form_powens_settings").id, "form")],
            "target": "current",
        }

    # --- Rights -----------------------------------------------------------------------------

    def _powens_check_contract_right(self):
        """Refuse unless the user is a system administrator holding the accounting-setup
        right in these companies: the Powens contract decides where the client secret and the
        user tokens are sent."""
        self._powens_check_setup_right()
        if not (self.env.su or self.env.user.has_group("base.group_system")):
            raise AccessError(
                self.env._(
                    "Only a system administrator may change the Powens contract (domain, client ID, "
                    "secrets and addresses)."
                )
            )

    def _powens_check_setup_right(self):
        """Refuse unless the user holds the accounting-setup right in these companies.

        Checked server-side by every Powens action, whatever the interface shows."""
        user = self.env.user
        if not (self.env.su or user.has_group(SETUP_GROUP)):
            raise AccessError(self.env._("Only users allowed to access the accounting setup may configure Powens."))
        if not self.env.su and self - user.company_ids:
            raise AccessError(self.env._("You are not allowed to act in this company."))

    # --- Secrets ----------------------------------------------------------------------------

    def _powens_history_start(self):
        self.ensure_one()
        return self.sudo().powens_history_start or fields.Date.today() - timedelta(days=365)

    def _powens_rotate_secrets(self):
        """Encrypt every stored secret again under the first configured key.

        After a key rotation (``powens_encryption_key = NEW,OLD``), run it once, e.g. from
        ``bin/odoo shell``: ``env['res.company'].search([])._powens_rotate_secrets()``; the old
        key can then leave the configuration. The database's contract is rotated with them."""
        self.env["powens.contract"]._powens_database()._powens_rotate_contract_secrets()
        self._powens_rotate_contract_secrets()
        for company in self.sudo():
            users = (
                self.env["powens.user"]
                .sudo()
                .with_context(active_test=False)
                .search([("company_id", "=", company.id), ("token_encrypted", "!=", False)])
            )
            for user in users:
                user.token_encrypted = company._powens_unseal(user.token_encrypted, rotate=True)

    # --- Powens client --------------------------------------------------------------------

    def _powens_forget_tokens(self):
        """After a change of the domain or the API URL: every Powens user of the company is
        forgotten (a token is only ever sent to the Powens that issued it), its banks
        disconnected; connecting them again creates their users at the new Powens."""
        for company in self.sudo().filtered("powens_user_ids"):
            company._powens_forget_user(
                self.env._(
                    "Disconnected: the Powens domain or API URL changed, and a Powens token is only ever "
                    "sent to the Powens that issued it. Connect the bank again."
                )
            )
            company.message_post(
                body=self.env._(
                    "The Powens domain or API URL changed: the company's Powens users were forgotten, as a "
                    "token is only ever sent to the Powens that issued it. Connect the banks again."
                ),
                subtype_xmlid="mail.mt_note",
            )

    def _powens_client(self):
        """Return a Powens client for the contract this company uses (client credentials, no
        user token): a bank's calls go through its Powens user's client, ``journal._powens_client()``."""
        self.ensure_one()
        return self._powens_contract()._powens_contract_client(self)

    def _powens_create_user(self, journal):
        """Return the Powens user of ``journal``, created at Powens (auth/init) when it has
        none. The bank's row is locked first: two tabs connecting it at once wait for each
        other, and the second finds the first one's user."""
        self.ensure_one()
        journal.ensure_one()
        self.env.cr.execute("SELECT id FROM account_journal WHERE id = %s FOR UPDATE", [journal.id])
        Users = self.env["powens.user"].sudo()
        user = Users.search([("journal_id", "=", journal.id)], limit=1)
        return user or Users._create_for(journal, self._powens_client())

    @api.model
    def _powens_company_of_user(self, powens_user_id):
        """The company owning the Powens user ``powens_user_id`` (a deleted, archived one too:
        Powens notifies a deletion after it happened), or an empty recordset."""
        powens_user_id = as_id(powens_user_id)
        if not powens_user_id or powens_user_id > POSTGRES_INTEGER_MAX:
            return self.browse()
        user = (
            self.env["powens.user"]
            .sudo()
            .with_context(active_test=False)
            .search([("powens_id", "=", powens_user_id)], order="active desc, id desc", limit=1)
        )
        return user.company_id

    def action_powens_test_connection(self):
        """Check the settings against Powens without creating anything there: the list of
        banks proves the API address, and a code exchange that cannot succeed proves the client
        credentials by the way Powens refuses it (a bad code, not a bad client)."""
        self._powens_check_setup_right()
        self.ensure_one()
        return self._powens_test_contract(self._powens_contract())

    def _powens_test_contract(self, contract):
        """Test ``contract`` (the company's, or the database's from the Settings) for this company."""
        self._powens_check_setup_right()
        self.ensure_one()
        try:
            client = contract.sudo()._powens_contract_client(self)
            connectors = client.list_connectors()
            try:
                client.exchange_code(CREDENTIALS_PROBE_CODE)
            except PowensAuthError:
                raise
            except PowensError as refusal:
                if refusal.http_status is None or refusal.http_status >= 500:
                    raise
        except PowensError as error:
            raise UserError(self.env._("Powens refused the connection test: %(error)s", error=error)) from None
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "title": self.env._("Powens answers"),
                "message": self.env._(
                    "The connection to Powens works: %(count)s banks are available.", count=len(connectors)
                ),
                "sticky": False,
            },
        }

    # --- GDPR erasure -------------------------------------------------------------------------

    def action_powens_delete_user(self):
        """ "Delete the Powens user" (GDPR erasure): every Powens user of the company, with every
        connection and all the bank data Powens holds for it, is deleted at Powens, and its
        token forgotten here. The imported movements stay, and so do the consent records,
        marked withdrawn: the proof of what was agreed while the data flowed."""
        self._powens_check_setup_right()
        users = self.sudo().powens_user_ids
        failures = self._powens_delete_user(
            self.env._(
                "Disconnected: %(user)s deleted the company's Powens users and their data at Powens; the "
                "imported movements are kept.",
                user=self.env.user.name,
            )
        )
        if not failures:
            return True
        message = self.env._(
            "Powens could not delete the company's user: %(error)s",
            error="; ".join(str(error) for error in failures.values()),
        )
        if set(failures) == set(users):
            raise UserError(message)  # nothing was deleted at Powens: nothing to keep
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "warning",
                "sticky": True,
                "message": message,
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    def _powens_delete_user(self, message, best_effort=False):
        """Delete every Powens user of these companies at Powens (one already gone is fine),
        each then forgotten here. Returns ``{powens.user: error}`` for those Powens did not
        delete, kept with their token. ``best_effort`` (uninstallation): those are logged, and
        forgotten all the same, as are the users whose token cannot be decrypted."""
        users = self.env["powens.user"].sudo().search([("company_id", "in", self.ids)])
        failures = users._powens_delete(message)
        for user, error in failures.items():
            _logger.warning(
                "The Powens user %s of company %s could not be deleted at Powens: %s",
                user.powens_id,
                user.company_id.id,
                error,
            )
        if best_effort:
            users.filtered("active")._powens_forget(message)
            return {}
        return failures

    def _powens_forget_user(self, message):
        """Every Powens user of the company is gone: all its banks are disconnected
        (``message`` on each) and the tokens forgotten. Returns the banks."""
        users = self.env["powens.user"].sudo().search([("company_id", "in", self.ids)])
        return users._powens_forget(message)

    # --- Referential --------------------------------------------------------------------------

    def action_add_bank(self):
        """Open the short bank form: adding the bank to the referential comes before any
        connection attempt, and needs nothing but its name."""
        self._powens_check_setup_right()
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Add a bank"),
            "res_model": "account.referential.bank.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_company_id": self.id},
        }

    def _powens_add_referential_bank(self, name, acc_number=False, currency=False):
        """Create a bank of the referential, with its account number as Odoo keeps it (a bank
        account of the company's partner) and its currency when it is not the company's, so
        that the account shared at Powens with this IBAN is linked by itself. As superuser:
        holders of the right add banks without being accounting administrators."""
        self._powens_check_setup_right()
        self.ensure_one()
        values = {"name": name, "type": "bank", "company_id": self.id}
        if acc_number:
            values["bank_acc_number"] = sanitize_account_number(acc_number)
        if currency and currency != self.currency_id:
            values["currency_id"] = currency.id
        return self.env["account.journal"].sudo().with_company(self).create(values)
