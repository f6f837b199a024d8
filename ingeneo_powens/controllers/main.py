import logging

from odoo import http
from odoo.exceptions import UserError
from odoo.http import request

from ..const import CALLBACK_ROUTE
from ..models.powens_webview_state import PowensStateError
from ..powens import PowensError, WebviewError
from ..powens.webview import parse_callback

_logger = logging.getLogger(__name__)


class PowensController(http.Controller):
    """Thin routes: verify what comes in, then delegate to the models."""

    @http.route(CALLBACK_ROUTE, type="http", auth="user", methods=["GET"])
    def powens_callback(self, **query):
        """Where Powens' webview sends the browser back. Nothing changes unless the `state`
        proves this user started this round trip, for this bank, less than 30 minutes ago,
        and never came back before."""
        try:
            webview_state = request.env["powens.webview.state"]._consume(query.get("state"))
            # As the user coming back, who must still hold the right in the bank's company.
            journal = request.env["account.journal"].browse(webview_state.journal_id.id)
            journal._powens_check_can_connect()
            result = parse_callback(query, flow=webview_state.flow)
        except (PowensStateError, WebviewError, UserError) as error:
            _logger.warning("Powens callback refused for user %s: %s", request.env.uid, error)
            return self._error_page(str(error))
        if not result.ok:
            journal.sudo().message_post(body=request.env._(
                "The connection at Powens did not complete (%(error)s).", error=result.error))
            return request.redirect(self._journal_url(journal))
        try:
            with request.env.cr.savepoint():
                journal._powens_finish_webview(webview_state, result)
        except (UserError, PowensError) as error:
            return self._error_page(str(error))
        return request.redirect(self._journal_url(journal))

    @staticmethod
    def _journal_url(journal):
        return f"/odoo/action-account.action_account_journal_form/{journal.id}"

    @staticmethod
    def _error_page(message):
        return request.render(
            "ingeneo_powens.powens_callback_error", {"message": message}, status=400)
