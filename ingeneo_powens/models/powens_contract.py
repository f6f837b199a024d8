from odoo import api, fields, models
from odoo.exceptions import AccessError

from .powens_contract_mixin import POWENS_CONTRACT_FIELDS

DATABASE_CONTRACT_XMLID = "ingeneo_powens.powens_database_contract"


class PowensContract(models.Model):
    """The database's Powens contract: set once by a system administrator (Settings), used by
    every company that carries no contract of its own.

    One record (``DATABASE_CONTRACT_XMLID``), with a chatter: who changed which setting and
    when is noted there, where the administrators who change it read it (the "History" link
    of the Settings), never a value."""

    _name = "powens.contract"
    _inherit = ["powens.contract.mixin", "mail.thread"]
    _description = "Powens contract of the database"

    name = fields.Char(required=True, readonly=True, default="Powens contract")

    @api.model
    def _powens_database(self):
        """The database's contract (as superuser: companies read it whoever their user is).
        Its id comes from the registry's cache: no query for each bank that asks."""
        contract_id = self.env["ir.model.data"]._xmlid_to_res_id(DATABASE_CONTRACT_XMLID, raise_if_not_found=True)
        return self.sudo().browse(contract_id)

    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.su:
            raise AccessError(self.env._("The database has one Powens contract: change it in the Settings."))
        return super().create(vals_list)

    def write(self, vals):
        """System administrators only, whatever the screen. Each change is noted in the
        contract's chatter, and a new domain or API URL forgets the Powens users of every
        company using it."""
        if not self.env.su:
            self._powens_check_contract_right()
        if not vals.keys() & POWENS_CONTRACT_FIELDS:
            return super().write(vals)  # a ciphertext stored by the secret's input, noted there
        before = {contract: contract._powens_contract_snapshot() for contract in self}
        origins = {contract: contract._powens_origin() for contract in self}
        result = super().write(vals)
        for contract, values in before.items():
            after = contract._powens_contract_snapshot()
            contract._powens_log_settings_change({name for name, value in values.items() if after[name] != value})
            if contract._powens_origin() != origins[contract]:
                contract._powens_companies()._powens_forget_tokens()
        return result

    def _powens_check_contract_right(self):
        """Only a system administrator changes the database's contract: it decides where the
        client secret and every company's user tokens are sent."""
        if not (self.env.su or self.env.user.has_group("base.group_system")):
            raise AccessError(
                self.env._(
                    "Only a system administrator may change the Powens contract (domain, client ID, "
                    "secrets and addresses)."
                )
            )

    def _powens_contract_label(self):
        return self.env._("the database")

    def _powens_companies(self):
        """The companies using this contract: those carrying none of their own."""
        return self.env["res.company"].sudo().search(self.env["res.company"]._powens_database_contract_domain())
