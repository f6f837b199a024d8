from odoo import api, fields, models

from ..const import CALLBACK_ROUTE, SETUP_GROUP, WEBHOOK_ROUTE
from .powens_contract_mixin import POWENS_CONTRACT_FIELDS


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    # The database's Powens contract, used by every company carrying none of its own.
    powens_contract_id = fields.Many2one(
        "powens.contract",
        string="Powens contract",
        default=lambda self: self.env["powens.contract"]._powens_database(),
        groups=SETUP_GROUP,
    )
    powens_domain = fields.Char(related="powens_contract_id.powens_domain", readonly=False, groups=SETUP_GROUP)
    powens_client_id = fields.Char(related="powens_contract_id.powens_client_id", readonly=False, groups=SETUP_GROUP)
    powens_client_secret = fields.Char(
        related="powens_contract_id.powens_client_secret", readonly=False, groups=SETUP_GROUP
    )
    powens_client_secret_set = fields.Boolean(related="powens_contract_id.powens_client_secret_set", groups=SETUP_GROUP)
    powens_webhook_secret = fields.Char(
        related="powens_contract_id.powens_webhook_secret", readonly=False, groups=SETUP_GROUP
    )
    powens_webhook_secret_set = fields.Boolean(
        related="powens_contract_id.powens_webhook_secret_set", groups=SETUP_GROUP
    )
    powens_api_url = fields.Char(related="powens_contract_id.powens_api_url", readonly=False, groups=SETUP_GROUP)
    powens_webview_url = fields.Char(
        related="powens_contract_id.powens_webview_url", readonly=False, groups=SETUP_GROUP
    )
    # The current company's own settings.
    powens_history_start = fields.Date(related="company_id.powens_history_start", readonly=False, groups=SETUP_GROUP)
    powens_request_validity_days = fields.Integer(
        related="company_id.powens_request_validity_days", readonly=False, groups=SETUP_GROUP
    )
    powens_sync_interval_hours = fields.Integer(
        string="Retrieve every (hours)",
        groups=SETUP_GROUP,
        help="How often the scheduled retrieval runs, for every company.",
    )
    powens_redirect_uri = fields.Char(compute="_compute_powens_public_urls", groups=SETUP_GROUP)
    powens_webhook_url = fields.Char(compute="_compute_powens_public_urls", groups=SETUP_GROUP)

    @api.model_create_multi
    def create(self, vals_list):
        """The database's contract is written once per save, with what changed only (the form
        sends every field): one note in its chatter, its checks run once, and a save of other
        settings does not touch it."""
        contract = self.env["powens.contract"]._powens_database()
        changes = []
        for vals in vals_list:
            typed = {name: vals.pop(name) for name in POWENS_CONTRACT_FIELDS if name in vals}
            changes.append({name: value for name, value in typed.items() if (value or False) != contract[name]})
        records = super().create(vals_list)
        for settings, values in zip(records, changes, strict=True):
            if values:
                settings.powens_contract_id.write(values)
        return records

    def _compute_powens_public_urls(self):
        """The URLs to declare in the Powens console: they must match to the letter."""
        base_url = self.env.company.get_base_url()
        for settings in self:
            settings.powens_redirect_uri = base_url + CALLBACK_ROUTE
            settings.powens_webhook_url = base_url + WEBHOOK_ROUTE

    def get_values(self):
        values = super().get_values()
        cron = self.env.ref("ingeneo_powens.ir_cron_powens_sync", raise_if_not_found=False)
        if cron and self.env.user.has_group(SETUP_GROUP):
            values["powens_sync_interval_hours"] = cron.sudo().interval_number
        return values

    def set_values(self):
        result = super().set_values()
        cron = self.env.ref("ingeneo_powens.ir_cron_powens_sync", raise_if_not_found=False)
        if cron and self.env.user.has_group(SETUP_GROUP) and self.powens_sync_interval_hours > 0:
            cron.sudo().write({"interval_number": self.powens_sync_interval_hours, "interval_type": "hours"})
        return result

    def action_powens_test_connection(self):
        """Test the database's contract, as saved: the current company's banks use it unless
        the company carries a contract of its own."""
        self.execute()
        return self.company_id._powens_test_contract(self.powens_contract_id)

    def action_powens_contract_history(self):
        """The database's contract with its chatter: who changed which setting, and when."""
        self.powens_contract_id._powens_check_contract_right()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Powens contract of the database"),
            "res_model": "powens.contract",
            "res_id": self.powens_contract_id.id,
            "view_mode": "form",
            "target": "current",
        }
