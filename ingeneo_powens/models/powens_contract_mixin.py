from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import config

from ..const import SETUP_GROUP
from ..powens import PowensClient
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

# The Powens contract: who the database or a company is at Powens and where its secrets are
# sent. Whoever sets it decides who receives the client secret and the user tokens, so only
# system administrators change it (issue 13); holders of the right see it and test it.
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
# A user token is only ever sent to the Powens that issued it: a change of these forgets it.
POWENS_ORIGIN_FIELDS = ('powens_domain', 'powens_api_url')
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

# Secrets typed in the settings -> the column holding their ciphertext. The typed value is
# never stored nor shown back: the form only tells whether one is set.
SECRET_INPUTS = {
    'powens_client_secret': 'powens_client_secret_encrypted',
    'powens_webhook_secret': 'powens_webhook_secret_encrypted',
}
# The stored columns of a contract: what tells whether a company carries one of its own.
CONTRACT_COLUMNS = (
    'powens_domain',
    'powens_client_id',
    'powens_api_url',
    'powens_webview_url',
    *SECRET_INPUTS.values(),
)


class PowensContractMixin(models.AbstractModel):
    """A Powens contract (domain, client ID, secrets, addresses): the database's
    (``powens.contract``) or a company's own (``res.company``), the same fields and the same
    guards on both, so that whichever one a company uses is read, checked and audited alike.

    Each holder says who may change it (``_powens_check_contract_right``) and where its changes
    are noted (``_powens_log_settings_change``)."""

    _name = "powens.contract.mixin"
    _description = "Powens contract"

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

    @api.depends("powens_domain")
    def _compute_powens_urls(self):
        for contract in self:
            domain = (contract.powens_domain or "").strip()
            contract.powens_api_url = api_url_for_domain(domain) if domain else False
            contract.powens_webview_url = DEFAULT_WEBVIEW_URL if domain else False

    def _compute_powens_secret_inputs(self):
        for contract in self:
            for field_name in SECRET_INPUTS:
                contract[field_name] = False

    def _inverse_powens_secret_inputs(self):
        self._powens_check_contract_right()
        for contract in self:
            typed = {field_name: (contract[field_name] or "").strip() for field_name in SECRET_INPUTS}
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
                    contract.sudo()._powens_store_secret(SECRET_INPUTS[field_name], value)
        # What was typed is not kept, even in this transaction's cache: read back, it is empty.
        self.invalidate_recordset(list(SECRET_INPUTS))

    @api.depends("powens_client_secret_encrypted", "powens_webhook_secret_encrypted")
    @api.depends_context("uid")
    def _compute_powens_secrets_set(self):
        for contract in self:
            stored = contract.sudo()
            contract.powens_client_secret_set = bool(stored.powens_client_secret_encrypted)
            contract.powens_webhook_secret_set = bool(stored.powens_webhook_secret_encrypted)

    @api.constrains("powens_domain", "powens_api_url", "powens_webview_url")
    def _check_powens_hosts(self):
        self._powens_check_contract_hosts()

    def write(self, vals):
        result = super().write(vals)
        if "powens_webhook_secret_encrypted" in vals:
            # The webhook route keeps the secrets it checks deliveries with (powens.webhook.event).
            self.env.registry.clear_cache()
        return result

    def _powens_check_contract_right(self):
        raise NotImplementedError

    def _powens_contract_label(self):
        """How the messages name this contract ("the database", a company's name)."""
        raise NotImplementedError

    def _powens_contract_snapshot(self):
        """The contract as stored, to tell afterwards which settings a write changed: a secret
        by its ciphertext (a new one typed, even the same, is a change)."""
        self.ensure_one()
        contract = self.sudo()
        values = {name: contract[name] for name in POWENS_CONTRACT_FIELDS - SECRET_INPUTS.keys()}
        values.update({name: contract[column] for name, column in SECRET_INPUTS.items()})
        return values

    def _powens_origin(self):
        """The Powens a token of this contract was issued by: another origin forgets it."""
        self.ensure_one()
        contract = self.sudo()
        return tuple(contract[name] for name in POWENS_ORIGIN_FIELDS)

    def _powens_log_settings_change(self, field_names):
        """Post in the holder's chatter who changed which Powens settings (the message's
        author and date): their names only, never a value (a secret's value is never written
        anywhere). As superuser: a holder of the right changes the company's retrieval settings
        without the right to edit the company, hence to post on it."""
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
        self[encrypted_field] = self._powens_seal(value) if value else False

    def _powens_read_secret(self, encrypted_field):
        """Return the clear value of ``encrypted_field``, or False when none is stored."""
        self.ensure_one()
        ciphertext = self.sudo()[encrypted_field]
        if not ciphertext:
            return False
        return self._powens_unseal(ciphertext)

    def _powens_seal(self, clear):
        """Encrypt ``clear`` under the first configured key: every secret and token stored."""
        return self._powens_secret_box().encrypt(clear)

    def _powens_unseal(self, ciphertext, *, rotate=False):
        """Decrypt ``ciphertext`` (or encrypt it again under the first key, ``rotate``); a
        key that cannot open it is a clear error for the user."""
        box = self._powens_secret_box()
        try:
            return box.rotate(ciphertext) if rotate else box.decrypt(ciphertext)
        except DecryptionError as error:
            raise UserError(self.env._("%(reason)s.", reason=error)) from None

    def _powens_rotate_contract_secrets(self):
        """Encrypt the contract's secrets again under the first configured key."""
        for contract in self.sudo():
            for encrypted_field in SECRET_INPUTS.values():
                if contract[encrypted_field]:
                    contract[encrypted_field] = contract._powens_unseal(contract[encrypted_field], rotate=True)

    # --- Where requests and browsers go ------------------------------------------------------

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
        for contract in self.sudo():
            for field_name, check in POWENS_HOST_CHECKS.items():
                if not contract[field_name]:
                    continue
                try:
                    check(contract[field_name], allowed_hosts)
                except HostNotAllowed as error:
                    raise UserError(
                        self.env._(
                            "%(setting)s of %(company)s is refused: %(reason)s. The add-on only reaches "
                            "Powens at its own addresses, unless the Odoo server configuration allows "
                            "other hosts (%(option)s).",
                            setting=contract._fields[field_name]._description_string(self.env),
                            company=contract._powens_contract_label(),
                            reason=error,
                            option=ALLOWED_HOSTS_OPTION,
                        )
                    ) from None

    def _powens_contract_client(self, company):
        """A Powens client of this contract for ``company`` (client credentials, no user
        token), its addresses checked first."""
        self.ensure_one()
        self._powens_check_contract_hosts()
        contract = self.sudo()
        if not (contract.powens_api_url and contract.powens_client_id and contract.powens_client_secret_encrypted):
            raise UserError(
                self.env._(
                    "Powens is not configured for %(company)s: set the domain, client ID and client "
                    "secret in Accounting settings, section Powens.",
                    company=company.name,
                )
            )
        return PowensClient(
            contract.powens_api_url,
            client_id=contract.powens_client_id,
            client_secret=contract._powens_read_secret("powens_client_secret_encrypted"),
        )
