import logging
from datetime import timedelta

from werkzeug.exceptions import NotFound, RequestEntityTooLarge

from odoo import http
from odoo.exceptions import UserError
from odoo.http import request

from .. import const
from ..const import CALLBACK_ROUTE, COCKPIT_ROUTE, REQUEST_ROUTE, WEBHOOK_ROUTE
from ..models.powens_webview_state import PowensStateError
from ..powens import PowensError, WebviewError, webhooks
from ..powens.webview import parse_callback

_logger = logging.getLogger(__name__)


class PowensController(http.Controller):
    """Thin routes: verify what comes in, then delegate to the models."""

    @http.route(COCKPIT_ROUTE, type="http", auth="user", methods=["GET"])
    def powens_cockpit(self, company_id=None, needing=None):
        """Open the cockpit over every company of the user: Odoo 19's lists show the companies
        ticked in the switcher (the ``cids`` cookie), which this ticks, the current one first,
        or ``company_id`` first (the digest's link, with ``needing``: its banks that need
        someone). Only the user's own companies: any other id is ignored."""
        user_companies = request.env.user.company_ids
        ticked = [int(cid) for cid in (request.cookies.get("cids") or "").split("-") if cid.isdigit()]
        first = next(
            (
                cid
                for cid in [int(company_id) if str(company_id).isdigit() else None, *ticked]
                if cid in user_companies.ids
            ),
            request.env.user.company_id.id,
        )
        companies = [first, *(cid for cid in user_companies.ids if cid != first)]
        action = "action_powens_cockpit_needing_someone" if needing else "action_server_powens_cockpit"
        response = request.redirect(f"/odoo/action-ingeneo_powens.{action}", code=303)
        response.set_cookie("cids", "-".join(map(str, companies)))
        return response

    @http.route(CALLBACK_ROUTE, type="http", auth="user", methods=["GET"])
    def powens_callback(self, **query):
        """Where Powens' webview sends the browser back. Nothing changes unless the `state`
        proves this user started this round trip, for this bank, less than 30 minutes ago,
        and never came back before; and unless the user still holds the right in the bank's
        company, or the connection request that let them start it is still open. A refused
        callback leaves nothing at Powens that its round trip created."""
        round_trip = request.env["powens.webview.state"]
        try:
            round_trip = request.env["powens.webview.state"]._consume(query.get("state"))
            connection_request = round_trip.request_id
            journal = request.env["account.journal"].browse(round_trip.journal_id.id)
            journal._powens_check_can_connect(connection_request)
            result = parse_callback(query, flow=round_trip.flow)
        except PowensStateError as error:
            return self._refuse_callback(error.round_trip or round_trip, query, error)
        except (WebviewError, UserError) as error:
            return self._refuse_callback(round_trip, query, error)
        # The invited user cannot read the bank: they come back to their request.
        back_url = self._request_url(connection_request) if connection_request else self._bank_back_url(journal)
        if not result.ok:
            _logger.info("Powens webview of round trip %s ended with error %r", round_trip.id, result.error[:64])
            journal._powens_webview_failed(result.error)
            return request.redirect(back_url)
        try:
            with request.env.cr.savepoint():
                journal._powens_finish_webview(round_trip, result)
        except (UserError, PowensError) as error:
            return self._refuse_callback(round_trip, query, error)
        return request.redirect(back_url)

    @classmethod
    def _refuse_callback(cls, round_trip, query, error):
        """Nothing recorded; the connections the round trip made at Powens are deleted there,
        when the callback named them and the round trip is known (a state came back too late,
        the request closed, the right removed, Powens failed)."""
        _logger.warning("Powens callback refused for user %s: %s", request.env.uid, error)
        message = str(error)
        if round_trip and round_trip.flow == "connect":
            try:
                connection_ids = parse_callback(query, flow=round_trip.flow).connection_ids
            except WebviewError:
                connection_ids = ()
            if round_trip._powens_discard_orphans(connection_ids):
                message = request.env._(
                    "%(reason)s The connection made at Powens was deleted there: nothing of it was kept.",
                    reason=message,
                )
        return cls._error_page(message, round_trip.request_id if round_trip else None)

    @http.route(f"{REQUEST_ROUTE}/<int:request_id>", type="http", auth="user", methods=["GET"])
    def powens_connection_request(self, request_id):
        """The link of the request's e-mail and inbox notification: marks it opened when the
        invited user follows it (the only change a GET makes), then shows it. A request that
        does not exist and one the user may not read get the same 404."""
        connection_request = request.env["powens.connection.request"].search([("id", "=", request_id)])
        if not connection_request:
            raise NotFound()
        connection_request._mark_opened()
        return request.redirect(self._request_url(connection_request))

    @staticmethod
    def _bank_back_url(journal):
        """The client action that opens the bank on its POWENS tab, and the choice of its
        account when one must be made (``account.journal.action_powens_back_from_webview``)."""
        return f"/odoo/{const.BANK_BACK_PATH}?journal_id={journal.id}"

    @staticmethod
    def _request_url(connection_request):
        return f"/odoo/powens-requests/{connection_request.id}"

    @classmethod
    def _error_page(cls, message, connection_request=None):
        """Nothing changed; back to where the connection started: the bank, or the request."""
        return request.render(
            "ingeneo_powens.powens_callback_error",
            {
                "message": message,
                "back_url": cls._request_url(connection_request) if connection_request else None,
            },
            status=400,
        )

    # --- Webhooks ---------------------------------------------------------------------------

    @http.route(
        [WEBHOOK_ROUTE, f"{WEBHOOK_ROUTE}/<string:event>"],
        type="http",
        auth="public",
        methods=["POST"],
        csrf=False,
        save_session=False,
        # Also caps a body sent without Content-Length (chunked) while it is read; one byte
        # more than accepted, as the stream stops silently at the cap: longer is then visible.
        max_content_length=lambda _controller: const.WEBHOOK_MAX_BODY_BYTES + 1,
    )
    def powens_webhook(self, event=None, **_query):
        """Where Powens notifies syncs and deletions (shared/powens-api.md §7). Register
        ``/powens/webhook/<event>`` (e.g. ``/powens/webhook/connection_synced``) for each event
        in Powens' console, with the HMAC authentication; the bare URL tells the events apart
        by their payload, USER_DELETED excepted. One URL serves every contract: the secret that
        verifies a delivery names its contract, its Powens user the company.

        Nothing is decompressed or parsed before the signature is verified
        (``powens.webhooks.read_delivery``); then the company must use the contract that signed
        it (``powens.webhook.event._powens_handle_delivery``).

        Answers: 200 once processed (or already processed, or not handled, or too long to be
        read at once: the scheduled retrieval is then started); 400 for a signed body that is
        not JSON; 403, with nothing changed, unless authenticated; 413 for a body longer than
        Powens ever sends; 415 for an encoding other than gzip; 500 when processing failed:
        everything is rolled back and Powens delivers it again."""
        httprequest = request.httprequest
        # As the superuser: the request is the public user's, and only the signature speaks for it.
        Event = request.env["powens.webhook.event"].sudo()
        try:
            delivery = webhooks.read_delivery(
                httprequest.path,
                httprequest.headers,
                self._webhook_body,
                Event._powens_webhook_secrets,
                event,
                self._webhook_limits(),
            )
            outcome = Event._powens_handle_delivery(delivery)
        except webhooks.WebhookRefused as refusal:
            if refusal.status == 403:
                # The path is the public's to choose: logged as repr, cut short.
                _logger.warning("Powens webhook on %s refused: %s", repr(httprequest.path)[:200], refusal.reason)
            return self._webhook_answer(refusal.status, refusal.answer)
        return self._webhook_answer(200, outcome)

    @staticmethod
    def _webhook_limits():
        return webhooks.WebhookLimits(
            body=const.WEBHOOK_MAX_BODY_BYTES,
            decoded=const.WEBHOOK_MAX_DECOMPRESSED_BYTES,
            parsed=const.WEBHOOK_MAX_PARSED_BYTES,
            max_age=timedelta(days=const.WEBHOOK_RETRY_HORIZON_DAYS),
        )

    @staticmethod
    def _webhook_body():
        """The raw body, within the cap (cached: Odoo replays the whole request after a
        serialization failure)."""
        try:
            raw = request.httprequest.get_data()
        except RequestEntityTooLarge:
            raise webhooks.WebhookTooLarge("the body is longer than accepted") from None
        if len(raw) > const.WEBHOOK_MAX_BODY_BYTES:
            raise webhooks.WebhookTooLarge("the body is longer than accepted")
        return raw

    @staticmethod
    def _webhook_answer(status, message):
        return request.make_json_response({"status": message}, status=status)
