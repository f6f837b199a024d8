from odoo import fields, models
from odoo.exceptions import UserError

from ..powens import PowensError


class PowensConnectorSearch(models.TransientModel):
    """ "Is my bank compatible?": search the banks Powens can connect (the documentation's
    first question, asked before trying a connection)."""

    _name = "powens.connector.search"
    _description = "Search the banks available through Powens"

    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    search_text = fields.Char(string="Bank name")
    result_ids = fields.One2many("powens.connector.search.result", "search_id", readonly=True)
    searched = fields.Boolean(readonly=True)

    def action_search(self):
        self.ensure_one()
        self.company_id._powens_check_setup_right()
        try:
            connectors = self.company_id._powens_client().list_connectors(search=self.search_text)
        except PowensError as error:
            raise UserError(self.env._("Powens could not list its banks: %(error)s", error=error)) from None
        self.result_ids = [fields.Command.clear()] + [
            fields.Command.create(
                {
                    "name": connector.get("name") or "",
                    "capabilities": ", ".join(connector.get("capabilities") or ()),
                    "beta": bool(connector.get("beta")),
                }
            )
            for connector in connectors[:200]
        ]
        self.searched = True
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
            "name": self.env._("Is my bank compatible?"),
        }


class PowensConnectorSearchResult(models.TransientModel):
    _name = "powens.connector.search.result"
    _description = "A bank available through Powens"
    _order = "name"

    search_id = fields.Many2one("powens.connector.search", required=True, ondelete="cascade")
    name = fields.Char(string="Bank", readonly=True)
    capabilities = fields.Char(readonly=True)
    beta = fields.Boolean(readonly=True)
