import logging
from datetime import timedelta

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import config

from odoo.addons.base.models.res_bank import sanitize_account_number

from ..const import REQUEST_VALIDITY_DAYS, SETUP_GROUP
from ..powens import PowensAuthError, PowensClient, PowensError
from ..powens.const import DEFAULT_WEBVIEW_URL
from ..powens.crypto import DecryptionError, EncryptionKeyError, SecretBox
from ..powens.urls import (
    HostNotAllowed,
    api_url_for_domain,
    check_api_url,
    check_domain,
    check_webview_url,
    parse_allowed_hosts,
)
from ..powens.webhooks import as_id

_logger = logging.getLogger(__name__)

# The Powens contract: who the company is at Powens and where its secrets are sent. Whoever
# sets it decides who receives the client secret and the user tokens, so only system
# administrators change it (issue 13); holders of the right see it and test it.
POWENS_CONTRACT_FIELDS = frozenset(
    {
        'powens_domain',
        'powens_client_id',
        'powens_api_url',
        'powens_webview_url',
        'powens_client_secret',
        'powens_webhook_secret',
    }
)
# What a holder of the right may change on the company without being allowed to edit it.
POWENS_SETTINGS_FIELDS = POWENS_CONTRACT_FIELDS | {'powens_history_start', 'powens_request_validity_days'}
# A user token is only ever sent to the Powens that issued it: a change of these forgets it.
POWENS_ORIGIN_FIELDS = frozenset({'powens_domain', 'powens_api_url'})
# Where each contract address may point: Powens' own hosts (powens/urls.py)...
POWENS_HOST_CHECKS = {
    'powens_domain': check_domain,
    'powens_api_url': check_api_url,
    'powens_webview_url': check_webview_url,
}
# ...or the hosts this server configuration key names (the local sandbox, an on-premise proxy).
ALLOWED_HOSTS_OPTION = 'powens_allowed_hosts'
# Powens generates the webhook's HMAC key (shown once in its console, far longer than this):
# a shorter value is a typing or pasting mistake, and 16 characters of a random key are out of
# reach of offline guessing from a captured signature.
WEBHOOK_SECRET_MIN_LENGTH = 16

# A temporary code no Powens user was ever given: exchanging it can only fail, as a bad code
# when the client credentials are right, as an authentication error when they are not.
CREDENTIALS_PROBE_CODE = "ingeneo-credentials-probe"

# Powens ids are compared with integer columns: anything larger names nobody.
POSTGRES_INTEGER_MAX = 2**31 - 1

# Secrets typed in the settings -> the column holding their ciphertext. The typed value is
# never stored nor shown back: the form only tells whether one is set.
SECRET_INPUTS = {
    'powens_client_secret': 'powens_client_secret_encrypted',
    'powens_webhook_secret': 'powens_webhook_secret_encrypted',
}


class ResCompany(models.Model):
    _inherit = "res.company"

    bank_journal_ids = fields.One2many(
        "account.journal",
        "company_id",
        string="Bank Journals",
        domain=[("type", "=", "bank")],
        help="The banks of the company's accounting referential: each one is a bank journal "
        "that can then be connected to Powens.",
    )

    # --- Powens settings ------------------------------------------------------------------

    powens_domain = fields.Char(
        string="Powens domain",
        groups=SETUP_GROUP,
        help="The API domain of the Powens contract, e.g. 'ingeneo' or 'ingeneo-sandbox' (the host ingeneo.biapi.pro).",
    )
    powens_client_id = fields.Char(string="Powens client ID", groups=SETUP_GROUP)
    powens_api_url = fields.Char(
        string="Powens API URL",
        compute="_compute_powens_urls",
        store=True,
        readonly=False,
        groups=SETUP_GROUP,
        help="Derived from the domain. Another host (the local sandbox, an on-premise proxy) must be "
        "allowed by the Odoo server configuration (powens_allowed_hosts).",
    )
    powens_webview_url = fields.Char(
        string="Powens webview URL",
        compute="_compute_powens_urls",
        store=True,
        readonly=False,
        groups=SETUP_GROUP,
        help="Where the bank picker and the credentials form are served. Another host (the local "
        "sandbox) must be allowed by the Odoo server configuration (powens_allowed_hosts).",
    )
    powens_client_secret = fields.Char(
        string="Powens client secret",
        compute="_compute_powens_secret_inputs",
        inverse="_inverse_powens_secret_inputs",
        groups=SETUP_GROUP,
    )
    powens_webhook_secret = fields.Char(
        string="Powens webhook secret",
        compute="_compute_powens_secret_inputs",
        inverse="_inverse_powens_secret_inputs",
        groups=SETUP_GROUP,
        help="The HMAC secret of the webhook authentication provider (BI-Signature).",
    )
    powens_client_secret_set = fields.Boolean(compute="_compute_powens_secrets_set", groups=SETUP_GROUP)
    powens_webhook_secret_set = fields.Boolean(compute="_compute_powens_secrets_set", groups=SETUP_GROUP)
    powens_client_secret_encrypted = fields.Char(groups="base.group_system", copy=False)
    powens_webhook_secret_encrypted = fields.Char(groups="base.group_system", copy=False)
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

    @api.depends("powens_domain")
    def _compute_powens_urls(self):
        for company in self:
            domain = (company.powens_domain or "").strip()
            company.powens_api_url = api_url_for_domain(domain) if domain else False
            company.powens_webview_url = DEFAULT_WEBVIEW_URL if domain else False

    def _compute_powens_secret_inputs(self):
        for company in self:
            for field_name in SECRET_INPUTS:
                company[field_name] = False

    def _inverse_powens_secret_inputs(self):
        self._powens_check_contract_right()
        for company in self:
            typed = {field_name: (company[field_name] or "").strip() for field_name in SECRET_INPUTS}
            if typed["powens_webhook_secret"] and len(typed["powens_webhook_secret"]) < WEBHOOK_SECRET_MIN_LENGTH:
                raise UserError(
                    self.env._(
                        "The webhook secret is too short: paste the whole secret key Powens gave for the "
                        "webhook authentication (at least %(length)s characters).",
                        length=WEBHOOK_SECRET_MIN_LENGTH,
                    )
                )
            for field_name, value in typed.items():
                if value:
                    company.sudo()._powens_store_secret(SECRET_INPUTS[field_name], value)

    @api.depends_context("uid")
    def _compute_powens_secrets_set(self):
        for company in self:
            stored = company.sudo()
            company.powens_client_secret_set = bool(stored.powens_client_secret_encrypted)
            company.powens_webhook_secret_set = bool(stored.powens_webhook_secret_encrypted)

    @api.constrains("powens_domain", "powens_api_url", "powens_webview_url")
    def _check_powens_hosts(self):
        self._powens_check_contract_hosts()

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
        if settings == vals.keys() and not self.env.su:
            result = super(ResCompany, self.sudo()).write(vals)
        else:
            result = super().write(vals)
        secrets_typed = {field_name for field_name in SECRET_INPUTS if (vals.get(field_name) or "").strip()}
        for company, values in before.items():
            changed = {name for name, value in values.items() if company[name] != value} | secrets_typed
            company._powens_log_settings_change(changed)
            if changed & POWENS_ORIGIN_FIELDS:
                company._powens_forget_tokens()
        return result

    def _powens_settings_values(self):
        """The stored Powens settings, to tell afterwards which ones a write changed."""
        self.ensure_one()
        return {name: self[name] for name in POWENS_SETTINGS_FIELDS - SECRET_INPUTS.keys()}

    def _powens_log_settings_change(self, field_names):
        """Post in the company's chatter who changed which Powens settings (the message's
        author and date): their names only, as every employee reads the company's chatter and
        the values are for holders of the right (a secret's value is never written anywhere).

        As superuser: a holder changes the history start without the right to edit the
        company, hence without the right to post on it."""
        self.ensure_one()
        if not field_names:
            return
        labels = sorted(self._fields[name]._description_string(self.env) for name in field_names)
        self.sudo().message_post(
            body=Markup("<p>%s</p><ul>%s</ul>")
            % (
                self.env._("Powens settings changed:"),
                Markup().join(Markup("<li>%s</li>") % label for label in labels),
            ),
            subtype_xmlid="mail.mt_note",
        )

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

    def _powens_secret_box(self):
        try:
            return SecretBox(config.get("powens_encryption_key"))
        except EncryptionKeyError as error:
            raise UserError(
                self.env._(
                    "Powens secrets cannot be stored or read: %(reason)s. Ask your administrator to "
                    "set powens_encryption_key in the Odoo server configuration.",
                    reason=error,
                )
            ) from None

    def _powens_store_secret(self, encrypted_field, value):
        """Encrypt ``value`` into ``encrypted_field`` (called as superuser, after the checks)."""
        self.ensure_one()
        self[encrypted_field] = self._powens_secret_box().encrypt(value) if value else False

    def _powens_read_secret(self, encrypted_field):
        """Return the clear value of ``encrypted_field``, or False when none is stored."""
        self.ensure_one()
        ciphertext = self.sudo()[encrypted_field]
        if not ciphertext:
            return False
        return self._powens_unseal(ciphertext)

    def _powens_unseal(self, ciphertext, *, rotate=False):
        """Decrypt ``ciphertext`` (or encrypt it again under the first key, ``rotate``); a
        key that cannot open it is a clear error for the user."""
        box = self._powens_secret_box()
        try:
            return box.rotate(ciphertext) if rotate else box.decrypt(ciphertext)
        except DecryptionError as error:
            raise UserError(self.env._("%(reason)s.", reason=error)) from None

    def _powens_history_start(self):
        self.ensure_one()
        return self.sudo().powens_history_start or fields.Date.today() - timedelta(days=365)

    def _powens_rotate_secrets(self):
        """Encrypt every stored secret again under the first configured key.

        After a key rotation (``powens_encryption_key = NEW,OLD``), run it once, e.g. from
        ``bin/odoo shell``: ``env['res.company'].search([])._powens_rotate_secrets()``; the old
        key can then leave the configuration."""
        for company in self.sudo():
            for encrypted_field in SECRET_INPUTS.values():
                if company[encrypted_field]:
                    company[encrypted_field] = company._powens_unseal(company[encrypted_field], rotate=True)
            users = (
                self.env["powens.user"]
                .sudo()
                .with_context(active_test=False)
                .search([("company_id", "=", company.id), ("token_encrypted", "!=", False)])
            )
            for user in users:
                user.token_encrypted = company._powens_unseal(user.token_encrypted, rotate=True)

    # --- Powens client --------------------------------------------------------------------

    def _powens_allowed_hosts(self):
        """The hosts besides Powens' own that the server configuration allows."""
        try:
            return parse_allowed_hosts(config.get(ALLOWED_HOSTS_OPTION))
        except ValueError as error:
            raise UserError(
                self.env._(
                    "The Odoo server configuration's %(option)s is invalid: %(reason)s.",
                    option=ALLOWED_HOSTS_OPTION,
                    reason=error,
                )
            ) from None

    def _powens_check_contract_hosts(self):
        """Refuse a domain, API URL or webview URL outside Powens and the hosts the server
        configuration allows. Checked when they are written and again wherever a request or a
        browser is sent, so a value stored earlier, or written in the database directly, is
        refused all the same.

        As superuser: the invited user's webview is checked too, without their reading the
        contract."""
        allowed_hosts = self._powens_allowed_hosts()
        for company in self.sudo():
            for field_name, check in POWENS_HOST_CHECKS.items():
                if not company[field_name]:
                    continue
                try:
                    check(company[field_name], allowed_hosts)
                except HostNotAllowed as error:
                    raise UserError(
                        self.env._(
                            "%(setting)s of %(company)s is refused: %(reason)s. The add-on only reaches "
                            "Powens at its own addresses, unless the Odoo server configuration allows "
                            "other hosts (%(option)s).",
                            setting=company._fields[field_name]._description_string(self.env),
                            company=company.name,
                            reason=error,
                            option=ALLOWED_HOSTS_OPTION,
                        )
                    ) from None

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
        """Return a Powens client for this company's contract (client credentials, no user
        token): a bank's calls go through its Powens user's client, ``journal._powens_client()``."""
        self.ensure_one()
        self._powens_check_contract_hosts()
        company = self.sudo()
        if not (company.powens_api_url and company.powens_client_id and company.powens_client_secret_encrypted):
            raise UserError(
                self.env._(
                    "Powens is not configured for %(company)s: set the domain, client ID and client "
                    "secret in Accounting settings, section Powens.",
                    company=company.name,
                )
            )
        return PowensClient(
            company.powens_api_url,
            client_id=company.powens_client_id,
            client_secret=company._powens_read_secret("powens_client_secret_encrypted"),
        )

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
        try:
            client = self._powens_client()
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
