import logging
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import config

from ..const import REQUEST_VALIDITY_DAYS, SETUP_GROUP
from ..powens import PowensClient, PowensError, PowensNotFound
from ..powens.const import DEFAULT_WEBVIEW_URL
from ..powens.crypto import DecryptionError, EncryptionKeyError, SecretBox
from ..powens.urls import api_url_for_domain

_logger = logging.getLogger(__name__)

# What a holder of the right may change on the company without being allowed to edit it.
POWENS_SETTINGS_FIELDS = frozenset({
    'powens_domain', 'powens_client_id', 'powens_api_url', 'powens_webview_url',
    'powens_client_secret', 'powens_webhook_secret', 'powens_history_start',
    'powens_request_validity_days',
})

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
        help="The API domain of the Powens contract, e.g. 'ingeneo' or 'ingeneo-sandbox' "
        "(the host ingeneo.biapi.pro).",
    )
    powens_client_id = fields.Char(string="Powens client ID", groups=SETUP_GROUP)
    powens_api_url = fields.Char(
        string="Powens API URL",
        compute="_compute_powens_urls", store=True, readonly=False, groups=SETUP_GROUP,
        help="Derived from the domain; override it for the local sandbox or an on-premise proxy.",
    )
    powens_webview_url = fields.Char(
        string="Powens webview URL",
        compute="_compute_powens_urls", store=True, readonly=False, groups=SETUP_GROUP,
        help="Where the bank picker and the credentials form are served; override it for the "
        "local sandbox.",
    )
    powens_client_secret = fields.Char(
        string="Powens client secret",
        compute="_compute_powens_secret_inputs", inverse="_inverse_powens_secret_inputs",
        groups=SETUP_GROUP,
    )
    powens_webhook_secret = fields.Char(
        string="Powens webhook secret",
        compute="_compute_powens_secret_inputs", inverse="_inverse_powens_secret_inputs",
        groups=SETUP_GROUP,
        help="The HMAC secret of the webhook authentication provider (BI-Signature).",
    )
    powens_client_secret_set = fields.Boolean(compute="_compute_powens_secrets_set", groups=SETUP_GROUP)
    powens_webhook_secret_set = fields.Boolean(compute="_compute_powens_secrets_set", groups=SETUP_GROUP)
    powens_client_secret_encrypted = fields.Char(groups="base.group_system", copy=False)
    powens_webhook_secret_encrypted = fields.Char(groups="base.group_system", copy=False)
    powens_user_token_encrypted = fields.Char(groups="base.group_system", copy=False)
    powens_history_start = fields.Date(
        string="Retrieve movements from", groups=SETUP_GROUP,
        help="The first retrieval of a bank imports its movements from this date (as far as "
        "the bank gives them). Empty: one year back.")
    powens_request_validity_days = fields.Integer(
        string="Connection requests valid for (days)", groups=SETUP_GROUP, default=REQUEST_VALIDITY_DAYS,
        help="How long the user asked to connect a bank has to do it before the request expires.")
    powens_user_id = fields.Integer(
        string="Powens user", groups=SETUP_GROUP, copy=False, readonly=True,
        help="The Powens user holding this company's bank connections.",
    )

    _powens_request_validity_positive = models.Constraint(
        "CHECK(powens_request_validity_days > 0)", "A connection request must stay valid at least one day.")

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
        self._powens_check_setup_right()
        for company in self:
            for field_name, encrypted_field in SECRET_INPUTS.items():
                if company[field_name]:
                    company.sudo()._powens_store_secret(encrypted_field, company[field_name].strip())

    @api.depends_context("uid")
    def _compute_powens_secrets_set(self):
        for company in self:
            stored = company.sudo()
            company.powens_client_secret_set = bool(stored.powens_client_secret_encrypted)
            company.powens_webhook_secret_set = bool(stored.powens_webhook_secret_encrypted)

    def write(self, vals):
        """Holders of the accounting-setup right configure Powens without the right to edit
        the company: a write of Powens settings only is checked here, then done as superuser."""
        if vals and set(vals) <= POWENS_SETTINGS_FIELDS and not self.env.su:
            self._powens_check_setup_right()
            return super(ResCompany, self.sudo()).write(vals)
        return super().write(vals)

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

    def _powens_check_setup_right(self):
        """Refuse unless the user holds the accounting-setup right in these companies.

        Checked server-side by every Powens action, whatever the interface shows."""
        user = self.env.user
        if not (self.env.su or user.has_group(SETUP_GROUP)):
            raise AccessError(self.env._(
                "Only users allowed to access the accounting setup may configure Powens."))
        if not self.env.su and self - user.company_ids:
            raise AccessError(self.env._("You are not allowed to act in this company."))

    # --- Secrets ----------------------------------------------------------------------------

    def _powens_secret_box(self):
        try:
            return SecretBox(config.get("powens_encryption_key"))
        except EncryptionKeyError as error:
            raise UserError(self.env._(
                "Powens secrets cannot be stored or read: %(reason)s. Ask your administrator to "
                "set powens_encryption_key in the Odoo server configuration.", reason=error)) from None

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
            for encrypted_field in (*SECRET_INPUTS.values(), "powens_user_token_encrypted"):
                if company[encrypted_field]:
                    company[encrypted_field] = company._powens_unseal(company[encrypted_field], rotate=True)

    # --- Powens client --------------------------------------------------------------------

    def _powens_client(self, *, with_user=True):
        """Return a Powens client for this company's contract, bound to its Powens user
        token when ``with_user`` (created at Powens on first use)."""
        self.ensure_one()
        company = self.sudo()
        if not (company.powens_api_url and company.powens_client_id and company.powens_client_secret_encrypted):
            raise UserError(self.env._(
                "Powens is not configured for %(company)s: set the domain, client ID and client "
                "secret in Accounting settings, section Powens.", company=company.name))
        client = PowensClient(
            company.powens_api_url,
            client_id=company.powens_client_id,
            client_secret=company._powens_read_secret("powens_client_secret_encrypted"),
        )
        if not with_user:
            return client
        token = company._powens_read_secret("powens_user_token_encrypted")
        if not token:
            token = company._powens_create_user(client)
        return client.with_token(token, user_id=company.powens_user_id or None,
                                 on_token_renewed=company._powens_keep_renewed_token)

    def _powens_keep_renewed_token(self, token):
        """Keep the token Powens renewed after refusing the stored one (revoked or expired)."""
        self.sudo()._powens_store_secret("powens_user_token_encrypted", token)

    def _powens_create_user(self, client):
        """Create the company's Powens user (auth/init) and keep its token, encrypted."""
        auth = client.init_user()
        self._powens_store_secret("powens_user_token_encrypted", auth["auth_token"])
        self.powens_user_id = auth.get("id_user") or False
        return auth["auth_token"]

    def action_powens_test_connection(self):
        """Check the settings against Powens with a call that needs the client credentials."""
        self._powens_check_setup_right()
        self.ensure_one()
        try:
            # Creating the company's Powens user on first use proves the client credentials;
            # reading it back proves the stored token.
            client = self._powens_client()
            client.get_me()
            connectors = client.list_connectors()
        except PowensError as error:
            raise UserError(self.env._("Powens refused the connection test: %(error)s", error=error)) from None
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "title": self.env._("Powens answers"),
                "message": self.env._(
                    "The connection to Powens works: %(count)s banks are available.", count=len(connectors)),
                "sticky": False,
            },
        }

    # --- GDPR erasure -------------------------------------------------------------------------

    def action_powens_delete_user(self):
        """"Delete the Powens user" (GDPR erasure): the company's Powens user, with every
        connection and all the bank data Powens holds for it, is deleted at Powens, and its
        token forgotten here. The imported movements stay, and so do the consent records,
        marked withdrawn: the proof of what was agreed while the data flowed."""
        self._powens_check_setup_right()
        self._powens_delete_user(self.env._(
            "Disconnected: %(user)s deleted the company's Powens user and its data at Powens; the "
            "imported movements are kept.", user=self.env.user.name))
        return True

    def _powens_delete_user(self, message, best_effort=False):
        """Delete each company's Powens user at Powens (a user already gone is fine), then
        forget it here. ``best_effort`` (uninstallation): a failure, of Powens or of the
        decryption, is logged instead of raised, and the token is forgotten all the same."""
        for company in self.sudo():
            try:
                token = company._powens_read_secret("powens_user_token_encrypted")
                if token:
                    company._powens_client(with_user=False).with_token(token).delete_me()
            except PowensNotFound:
                _logger.info("The Powens user of company %s was already deleted at Powens", company.id)
            except (PowensError, UserError) as error:
                if not best_effort:
                    raise UserError(self.env._(
                        "Powens could not delete the company's user: %(error)s", error=error)) from None
                _logger.warning("The Powens user of company %s could not be deleted at Powens: %s", company.id, error)
            company._powens_forget_user(message)

    def _powens_forget_user(self, message):
        """The company's Powens user is gone: every bank it fed is disconnected (``message``
        on each), its connections archived, its token and id forgotten; the next connection
        creates a new user."""
        company = self.sudo()
        connections = self.env["powens.connection"].sudo().with_context(active_test=False).search(
            [("company_id", "=", company.id)])
        journals = connections._disconnect_banks(message)
        company.write({"powens_user_token_encrypted": False, "powens_user_id": False})
        return journals

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
