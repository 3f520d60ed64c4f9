import logging
from dataclasses import asdict

from odoo import http
from odoo.exceptions import ValidationError
from odoo.http import request

from ..gateways.webpay_rest import classify_return
from ..models import webpay_oneclick
from ..models.webpay_flow import RETURN_ROUTE

_logger = logging.getLogger(__name__)


class WebpayController(http.Controller):
    @http.route(
        RETURN_ROUTE,
        type="http",
        auth="public",
        methods=["GET", "POST"],
        csrf=False,  # Transbank's form posts here cross-site
        save_session=False,  # keep the shopper's session for /payment/status
    )
    def webpay_return(self, **params):
        """Where Transbank's form sends the shopper back, in any of its four ways."""
        case = classify_return(params)
        try:
            request.env["payment.transaction"].sudo()._handle_notification_data(
                "webpay", asdict(case)
            )
        except ValidationError as error:
            # Unknown or foreign token: nothing changes; the status page tells
            # the shopper what the session knows. Tokens are not logged.
            _logger.warning("Webpay return (%s) ignored: %s", case.kind, error)
        return request.redirect("/payment/status")

    @http.route(
        webpay_oneclick.RETURN_ROUTE,
        type="http",
        auth="public",
        methods=["GET", "POST"],
        csrf=False,  # Transbank's inscription form posts here cross-site
        save_session=False,
    )
    def webpay_oneclick_return(self, **params):
        """Where Transbank's card-inscription form sends the shopper back."""
        data = {
            "kind": webpay_oneclick.INSCRIPTION_RETURN,
            "token": (params.get("TBK_TOKEN") or "").strip(),
        }
        try:
            request.env["payment.transaction"].sudo()._handle_notification_data("webpay", data)
        except ValidationError as error:
            _logger.warning("Webpay Oneclick return ignored: %s", error)
        return request.redirect("/payment/status")
