"""Transbank Oneclick Mall (REST v1.2): saved cards, charged without the shopper.

No Odoo imports. An inscription binds a card to a `username` we choose and
returns Transbank's `tbk_user`: together they authorize later payments.
A payment is a mall transaction: a parent buy order with one detail per
store. Outcomes the caller cannot know raise `WebpayUnknownOutcome`, like
Webpay Plus: they are settled by asking the status, never by paying again.
"""

from dataclasses import dataclass

from . import webpay_const as const
from .webpay_mall import MallResult
from .webpay_rest import (
    RefundResult,
    WebpayClient,
    WebpayUnknownOutcome,
    check_buy_order,
    clp_amount,
    parse_int,
)


@dataclass(frozen=True)
class InscriptionResult:
    """The answer to finishing an inscription."""

    response_code: int | None
    tbk_user: str
    authorization_code: str
    card_type: str
    card_last4: str

    @classmethod
    def from_json(cls, data):
        if not isinstance(data, dict) or "response_code" not in data:
            raise WebpayUnknownOutcome("Transbank's inscription answer has no response code")
        return cls(
            response_code=parse_int(data.get("response_code")),
            tbk_user=str(data.get("tbk_user") or ""),
            authorization_code=str(data.get("authorization_code") or ""),
            card_type=str(data.get("card_type") or ""),
            card_last4=str(data.get("card_number") or "")[-4:],
        )

    @property
    def accepted(self):
        return self.response_code == const.APPROVED_RESPONSE_CODE and bool(self.tbk_user)


class OneclickClient(WebpayClient):
    """Oneclick Mall calls with the mall's commerce code."""

    api_path = const.ONECLICK_API_PATH

    def start_inscription(self, username, email, response_url):
        """Return (token, url of Transbank's inscription form)."""
        if not username or len(username) > const.ONECLICK_USERNAME_MAX_LENGTH:
            raise ValueError("username must have 1 to 40 characters")
        if not email or len(email) > const.ONECLICK_EMAIL_MAX_LENGTH:
            raise ValueError("an email address of at most 100 characters is required")
        if len(response_url) > const.ONECLICK_RESPONSE_URL_MAX_LENGTH:
            raise ValueError("response_url is longer than Transbank accepts")
        payload = {"username": username, "email": email, "response_url": response_url}
        body = self._call("POST", "/inscriptions", payload)
        token, url = body.get("token"), body.get("url_webpay")
        if not token or not url:
            raise WebpayUnknownOutcome("Transbank's answer has no token or url_webpay")
        return token, url

    def finish_inscription(self, token):
        return InscriptionResult.from_json(self._call("PUT", f"/inscriptions/{token}"))

    def delete_inscription(self, tbk_user, username):
        self._call("DELETE", "/inscriptions", {"tbk_user": tbk_user, "username": username})

    def authorize(self, username, tbk_user, buy_order, store_code, store_buy_order, amount):
        """Charge a saved card: one store, no installments."""
        payload = {
            "username": username,
            "tbk_user": tbk_user,
            "buy_order": check_buy_order(buy_order),
            "details": [
                {
                    "commerce_code": store_code,
                    "buy_order": check_buy_order(store_buy_order),
                    "amount": clp_amount(amount),
                    "installments_number": 1,
                }
            ],
        }
        return MallResult.from_json(self._call("POST", "/transactions", payload))

    def mall_status(self, buy_order):
        return MallResult.from_json(self._call("GET", f"/transactions/{buy_order}"))

    def refund_detail(self, buy_order, store_code, store_buy_order, amount):
        payload = {
            "commerce_code": store_code,
            "detail_buy_order": store_buy_order,
            "amount": clp_amount(amount),
        }
        body = self._call("POST", f"/transactions/{buy_order}/refunds", payload)
        return RefundResult.from_json(body)
