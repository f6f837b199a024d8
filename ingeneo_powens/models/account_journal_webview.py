import logging

from odoo import models
from odoo.exceptions import UserError

from odoo.addons.base.models.res_bank import sanitize_account_number

from ..const import CALLBACK_CONNECTION_EXPAND, CALLBACK_ROUTE, REQUEST_OPEN_STATES
from ..powens import PowensError
from ..powens.urls import domain_host
from ..powens.webview import build_connect_url, build_reconnect_url

_logger = logging.getLogger(__name__)


class AccountJournal(models.Model):
    """The webview round trip of a bank: the URL to Powens' pages, the way back, and the
    link of the bank to the account its holder shared there."""

    _inherit = "account.journal"

    def _powens_webview_url(self, flow, consent, connection_request=None):
        """Return the Powens webview URL for ``flow``, with a fresh temporary code (the
        permanent token never reaches the browser) and a signed, single-use `state`."""
        self._powens_check_can_connect(connection_request)
        self.ensure_one()
        journal = self.sudo()
        company = journal.company_id
        contract = company._powens_contract()
        contract._powens_check_contract_hosts()
        known_connection_ids = []
        try:
            if flow == "reconnect":
                powens_user = journal.powens_connection_id.user_id
                client = journal._powens_client()
            else:
                # A code only ever opens the bank's own user: the connect webview can then show
                # or change nothing of another bank, whoever holds the browser.
                powens_user = company._powens_create_user(journal)
                client = powens_user._powens_client()
                known_connection_ids = [data["id"] for data in client.list_connections()]
            code = client.get_temporary_code()["code"]
        except PowensError as error:
            raise UserError(self.env._("Powens could not open its connection page: %(error)s", error=error)) from None
        state = self.env["powens.webview.state"]._issue(
            journal, flow, powens_user, consent, connection_request, known_connection_ids=known_connection_ids
        )
        common = {
            "webview_url": contract.powens_webview_url,
            "domain": domain_host(contract.powens_domain or ""),
            "client_id": contract.powens_client_id,
            "redirect_uri": journal.get_base_url() + CALLBACK_ROUTE,
            "code": code,
            "state": state,
            "lang": (self.env.user.lang or "fr_FR").split("_")[0],
        }
        if flow == "reconnect":
            return build_reconnect_url(connection_id=journal.powens_connection_id.powens_id, **common)
        return build_connect_url(**common)

    def _powens_finish_webview(self, webview_state, result):
        """Apply a successful webview callback: record the connection and its accounts, and
        link the account matching the bank (or leave the choice to the user). A delegated
        connection is the requester's to follow up: reminders go to them."""
        connection_request = webview_state.request_id
        self._powens_check_can_connect(connection_request)
        self.ensure_one()
        journal = self.sudo()
        company = journal.company_id
        round_trip = webview_state.sudo()
        client = round_trip.powens_user_id._powens_client()
        connected_by = connection_request.requester_id or webview_state.user_id
        consent_before = journal.powens_connection_id.consent_expires_at
        if webview_state.flow == "reconnect":
            connections_data = [
                client.get_connection(journal.powens_connection_id.powens_id, expand=CALLBACK_CONNECTION_EXPAND)
            ]
        else:
            connections_data = journal._powens_callback_connections(round_trip, client, result.connection_ids)
        connections = self.env["powens.connection"]
        for data in connections_data:
            connection = (
                self.env["powens.connection"]
                .sudo()
                ._sync_from_powens(company, data, connected_by=connected_by, user=round_trip.powens_user_id)
            )
            self.env["powens.account"].sudo()._sync_from_connection_data(connection, data, client)
            connections |= connection
        if webview_state.consent_id:
            webview_state.consent_id.sudo().connection_id = connections[:1]
        journal.powens_connection_id = connections[:1]
        if webview_state.flow == "reconnect":
            journal._powens_apply_connection_state()
            journal._powens_report_consent(consent_before)
            return
        if connection_request:
            connection_request._mark_connected()
        free = connections.account_ids.filtered(lambda account: not account.journal_ids)
        match = journal._powens_matching_account(free.filtered("enabled"))
        if match:
            journal._powens_link_account(match)
        elif journal._powens_matching_account(free):
            journal.write(
                {
                    "powens_state": "not_connected",
                    "powens_message": self.env._(
                        "The account with this bank's number was not shared in Powens' pages: connect again "
                        "and tick it, or choose another shared account."
                    ),
                }
            )
        else:
            journal.write(
                {
                    "powens_state": "not_connected",
                    "powens_message": self.env._("Connected at Powens: choose which bank account feeds this journal."),
                }
            )

    def action_powens_back_from_webview(self):
        """Where the browser lands back from Powens' webview (the client action
        ``ingeneo_powens.bank_back_from_powens`` runs these in turn): the bank on its POWENS
        tab and, at once, the choice of its account when one must be made, or else the offer
        to add the other accounts the holder shared as banks of their own."""
        self._powens_check_can_connect()
        self.ensure_one()
        actions = [self._powens_form_action()]
        if self.powens_account_choice_ids:
            actions.append(self.action_powens_choose_account())
        elif self.powens_other_account_ids:
            actions.append(self.action_powens_add_other_banks())
        return actions

    def _powens_form_action(self):
        """The bank's form, open on its POWENS tab."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.name,
            "res_model": "account.journal",
            "res_id": self.id,
            "views": [(self.env.ref("ingeneo_powens.account_journal_view_form_powens_tab").id, "form")],
            "target": "current",
        }

    def _powens_callback_connections(self, round_trip, client, connection_ids):
        """Powens' data of the connections a connect callback names, all of them made by this
        round trip (see ``powens.webview.state._powens_created_connection``), else a refusal:
        the ids come from the browser, which may name any connection. A delegated connection
        is one bank login: one connection."""
        if round_trip.request_id and len(connection_ids) > 1:
            raise UserError(self.env._("Powens sent back several connections where one was expected."))
        connections_data = []
        for powens_id in connection_ids:
            data = round_trip._powens_created_connection(client, powens_id)
            if data is None:
                _logger.warning(
                    "Powens callback of round trip %s names connection %s, which it did not create",
                    round_trip.id,
                    powens_id,
                )
                raise UserError(
                    self.env._("The link back from Powens names a connection this connection did not create.")
                )
            connections_data.append(data)
        return connections_data

    def _powens_webview_failed(self, error_code):
        """Tell, on the bank, why Powens' webview came back without connecting it: Powens'
        documented error codes each have their message (shared/powens-api.md §3.3); any other
        text from the browser's query string is never shown, only logged."""
        self.ensure_one()
        messages = {
            "access_denied": self.env._("The connection at Powens was cancelled by %(user)s.", user=self.env.user.name),
            "tos_declined": self.env._(
                "The connection at Powens did not complete: %(user)s declined Powens' terms of service.",
                user=self.env.user.name,
            ),
            "server_error": self.env._(
                "The connection at Powens did not complete: Powens met an error. Try again later."
            ),
            "session_expired": self.env._(
                "The connection at Powens did not complete: the session at Powens expired. Start again."
            ),
        }
        body = messages.get(error_code) or self.env._(
            "The connection at Powens did not complete (Powens gave no documented reason). Start again."
        )
        self.sudo().message_post(author_id=self.env.user.partner_id.id, body=body)

    def _powens_matching_account(self, accounts):
        """The account whose IBAN is the journal's bank account number, when exactly one is."""
        number = sanitize_account_number(self.bank_acc_number or "")
        if not number:
            return self.env["powens.account"]
        matches = accounts.filtered(lambda account: account.iban == number)
        return matches if len(matches) == 1 else self.env["powens.account"]

    def _powens_link_account(self, account):
        """Link ``account`` to this bank. Only an account the holder shared in Powens' pages:
        enabling one at Powens is the holder's consent to share it, never the ERP's to give.
        The history start is fixed then, so that the company's default (a year back from
        today) does not move under the bank's history."""
        self.ensure_one()
        if not account.enabled:
            raise UserError(
                self.env._(
                    "The account holder did not share %(account)s in Powens' pages: connect again and tick it.",
                    account=account.display_name,
                )
            )
        self.sudo().write(
            {
                "powens_history_start": self._powens_history_start(),
                "powens_account_id": account.id,
                "powens_connection_id": account.connection_id.id,
                "bank_statements_source": "powens",
                "powens_state": "waiting",
                "powens_message": self.env._(
                    "Connected. The first movements are expected within 48 to 72 hours, the time "
                    "the bank takes to deliver its history."
                ),
            }
        )
        self.sudo().message_post(
            author_id=self.env.user.partner_id.id,
            body=self.env._(
                "Connected to Powens account %(account)s by %(user)s.",
                account=account.display_name,
                user=self.env.user.name,
            ),
        )
        open_requests = (
            self.env["powens.connection.request"]
            .sudo()
            .search([("journal_id", "=", self.id), ("state", "in", REQUEST_OPEN_STATES)])
        )
        open_requests._close(
            "cancelled",
            self.env._("The bank was connected by %(user)s: the request is no longer needed.", user=self.env.user.name),
        )
