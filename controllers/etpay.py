import json
import logging

from odoo import http
from odoo.http import request

from odoo.addons.payment.controllers.post_processing import PaymentPostProcessing

from ..models import etpay_flow

_logger = logging.getLogger(__name__)

MAX_WEBHOOK_BYTES = 16 * 1024


class EtpayController(http.Controller):
    @http.route(
        [etpay_flow.RETURN_ROUTE, etpay_flow.CANCEL_ROUTE],
        type="http",
        auth="public",
        methods=["GET", "POST"],
        csrf=False,  # ETpay sends the browser here from its own site
        save_session=False,  # keep the shopper's session for /payment/status
    )
    def etpay_return(self, jwt=None, **_params):
        """Where ETpay sends the payer back. Only for the payer's eyes: the webhook
        is the authority, but a signed outcome here is applied just the same
        (idempotently); without one, ETpay's status is asked."""
        source = (
            etpay_flow.SOURCE_CANCEL
            if request.httprequest.path == etpay_flow.CANCEL_ROUTE
            else etpay_flow.SOURCE_RETURN
        )
        data = {"source": source, "jwt": jwt or None}
        if not jwt:
            # The payment this browser is paying, as the checkout recorded it.
            data["tx_id"] = request.session.get(PaymentPostProcessing.MONITORED_TX_ID_KEY)
        try:
            self._handle(data)
        except etpay_flow.EtpayNotificationError as error:
            # Nothing changed; the status page tells what the session knows.
            _logger.warning("ETpay %s ignored: %s", source, error.args[0])
        return request.redirect("/payment/status")

    @http.route(
        etpay_flow.WEBHOOK_ROUTE,
        type="http",
        auth="public",
        methods=["POST"],
        csrf=False,  # ETpay's server posts here
        save_session=False,
    )
    def etpay_webhook(self):
        """ETpay's notification: JSON `{"payment": "<JWT>"}`.

        200 when the outcome is applied or was already; 400 for a body that is
        not such a notification, 404 for an unknown session, 403 for a JWT that is
        not ETpay's signature for that session. Never a traceback.
        """
        token = self._webhook_jwt()
        if not token:
            _logger.warning("ETpay webhook refused: not a JSON {payment: JWT} body")
            return self._answer(400, "expected a JSON object with a 'payment' JWT")
        try:
            self._handle({"source": etpay_flow.SOURCE_WEBHOOK, "jwt": token})
        except etpay_flow.EtpayNotificationError as error:
            _logger.warning("ETpay webhook refused: %s", error.args[0])
            return self._answer(error.http_status, error.args[0])
        return self._answer(200)

    @staticmethod
    def _webhook_jwt():
        """The JWT of a `{"payment": "<JWT>"}` body, or None for anything else."""
        length = request.httprequest.content_length
        if length is not None and length > MAX_WEBHOOK_BYTES:
            return None  # refused unread
        # Cached: Odoo replays the request after a serialization conflict.
        raw = request.httprequest.get_data()
        if len(raw) > MAX_WEBHOOK_BYTES:
            return None
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return None
        if isinstance(body, dict) and isinstance(body.get("payment"), str):
            return body["payment"]
        return None

    def _handle(self, data):
        # Refusals happen before any write; the savepoint makes that a guarantee.
        with request.env.cr.savepoint():
            request.env["payment.transaction"].sudo()._handle_notification_data("etpay", data)

    @staticmethod
    def _answer(status, error=None):
        body = {"status": "ok"} if status == 200 else {"status": "error", "error": error}
        return request.make_json_response(body, status=status)
