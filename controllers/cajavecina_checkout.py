from odoo import http
from odoo.http import request

from ..models.cajavecina_service import PROCESS_ROUTE


class CajaVecinaCheckoutController(http.Controller):
    @http.route(PROCESS_ROUTE, type="http", auth="public", methods=["POST"], csrf=False)
    def cajavecina_process(self, **post):
        """The shopper chose to pay cash: the payment waits, pending, for the bank."""
        data = {"reference": post.get("reference")}
        request.env["payment.transaction"].sudo()._handle_notification_data("cajavecina", data)
        return request.redirect("/payment/status")
