import logging
from dataclasses import asdict

from odoo import http
from odoo.exceptions import ValidationError
from odoo.http import request

from ..gateways.webpay_rest import classify_return
from ..models import webpay_soap_flow

_logger = logging.getLogger(__name__)


class WebpaySoapController(http.Controller):
    """Transbank's SOAP flow comes back twice: to the return URL with the result to
    read, then (after its voucher) to the final URL, which also receives the abort,
    timeout and form-error cases. Both hand the data to the same handling: the
    result is read once, whichever arrives first."""

    def _handle(self, params):
        case = classify_return(params)
        try:
            return (
                request.env["payment.transaction"]
                .sudo()
                ._handle_notification_data("webpay", asdict(case))
            )
        except ValidationError as error:
            # Unknown token or missing settings: nothing changes; tokens are not logged.
            _logger.warning("Webpay SOAP return (%s) ignored: %s", case.kind, error)
            return None

    @http.route(
        webpay_soap_flow.RETURN_ROUTE,
        type="http",
        auth="public",
        methods=["GET", "POST"],
        csrf=False,  # Transbank's form posts here cross-site
        save_session=False,  # keep the shopper's session for /payment/status
    )
    def webpay_soap_return(self, **params):
        tx = self._handle(params)
        voucher = webpay_soap_flow.voucher_form(tx) if tx else None
        if voucher:
            return request.render("payment_latam.webpay_soap_voucher_redirect", voucher)
        return request.redirect("/payment/status")

    @http.route(
        webpay_soap_flow.FINAL_ROUTE,
        type="http",
        auth="public",
        methods=["GET", "POST"],
        csrf=False,
        save_session=False,
    )
    def webpay_soap_final(self, **params):
        self._handle(params)
        return request.redirect("/payment/status")
