from odoo import api, fields, models
from odoo.exceptions import UserError

from ..powens.values import connection_state, connection_state_group, naive_utc, parse_datetime


class PowensConnection(models.Model):
    """One bank login at Powens (a "connection"): its state, its consent expiry and the bank
    accounts it gives access to."""

    _name = "powens.connection"
    _description = "Powens bank connection"
    _inherit = ["mail.thread"]
    _order = "id desc"

    name = fields.Char(string="Bank", required=True)
    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True)
    user_id = fields.Many2one(
        "powens.user",
        string="Powens user",
        readonly=True,
        index=True,
        ondelete="restrict",
        help="The Powens user holding this connection: only its token reaches it.",
    )
    powens_id = fields.Integer(string="Powens connection ID", required=True, readonly=True)
    connector_uuid = fields.Char(readonly=True)
    powens_state = fields.Char(
        string="Powens state",
        readonly=True,
        tracking=True,
        help="The connection state as Powens reports it (empty when the last sync succeeded).",
    )
    state_group = fields.Selection(
        [("ok", "OK"), ("user_action", "Action required"), ("transient", "Temporary problem"), ("error", "Error")],
        compute="_compute_state_group",
        store=True,
    )
    error_message = fields.Char(string="Message from the bank", readonly=True)
    consent_expires_at = fields.Datetime(string="Consent expires on", readonly=True)
    last_update = fields.Datetime(string="Last successful sync at Powens", readonly=True)
    next_try = fields.Datetime(string="Next sync at Powens", readonly=True)
    connected_by_id = fields.Many2one("res.users", string="Connected by", readonly=True)
    account_ids = fields.One2many("powens.account", "connection_id", string="Bank accounts")
    active = fields.Boolean(default=True)

    _powens_id_unique = models.Constraint(
        "UNIQUE(company_id, powens_id)", "A Powens connection is recorded once per company."
    )

    @api.depends("powens_state")
    def _compute_state_group(self):
        for connection in self:
            connection.state_group = connection_state_group(connection.powens_state or None)

    @api.model
    def _sync_from_powens(self, company, data, connected_by=None, user=None):
        """Create or update the connection described by Powens' ``data`` (a Connection
        object) and return it, held by the Powens ``user`` when created; unknown fields are
        ignored. The consent's end is only known from the sources (read with
        ``expand=sources``): a read without them keeps it."""
        values = {
            "powens_state": connection_state(data) or False,
            "error_message": data.get("error_message") or False,
            "last_update": naive_utc(parse_datetime(data.get("last_update"))),
            "next_try": naive_utc(parse_datetime(data.get("next_try"))),
        }
        consent_expiry = _consent_expiry(data)
        if consent_expiry:
            values["consent_expires_at"] = naive_utc(consent_expiry)
        connector = data.get("connector") if isinstance(data.get("connector"), dict) else {}
        connection = self.with_context(active_test=False).search(
            [("company_id", "=", company.id), ("powens_id", "=", int(data["id"]))]
        )
        if connection:
            connection.write(values)
            return connection
        return self.create(
            dict(
                values,
                company_id=company.id,
                user_id=user.id if user else False,
                powens_id=int(data["id"]),
                connector_uuid=data.get("connector_uuid") or connector.get("uuid") or False,
                name=connector.get("name") or self.env._("Bank connection %(id)s", id=data["id"]),
                connected_by_id=(connected_by or self.env.user).id,
            )
        )

    def _powens_client(self):
        """The Powens client of the user holding this connection."""
        self.ensure_one()
        if not self.sudo().user_id:
            raise UserError(
                self.env._(
                    "The Powens user holding this connection is unknown: disconnect the bank and connect it again."
                )
            )
        return self.sudo().user_id._powens_client()

    def _disconnect_banks(self, message):
        """These connections no longer exist at Powens: the banks they fed are disconnected
        (``message`` on each) and the connections archived. Returns the banks."""
        journals = (
            self.env["account.journal"]
            .sudo()
            .search([("powens_connection_id", "in", self.ids), ("powens_state", "!=", "disconnected")])
        )
        journals._powens_mark_disconnected(message)
        self.sudo().active = False
        return journals


def _consent_expiry(data):
    """The exact end of the account holder's consent, the sources' ``access_expire`` (the
    earliest: it stops the sync), None when Powens gave none. Never the connection's
    ``expire``: Powens derives it from the sources' purge dates, not from the consent."""
    sources = data.get("sources") if isinstance(data.get("sources"), list) else []
    expiries = [parse_datetime(source.get("access_expire")) for source in sources if isinstance(source, dict)]
    expiries = [expiry for expiry in expiries if expiry]
    return min(expiries) if expiries else None
