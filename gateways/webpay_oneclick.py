"""Transbank Oneclick Mall (REST v1.2): saved cards, charged without the shopper.

No Odoo imports. An inscription binds a card to a `username` we choose and
returns Transbank's `tbk_user`: together they authorize later payments.
A payment is a mall transaction: a parent buy order with one detail per
store. Outcomes the caller cannot know raise `WebpayUnknownOutcome`, like
Webpay Plus: they are settled by asking the status, never by paying again.
"""

from dataclasses import dataclass

from . import webpay_const as const
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


@dataclass(frozen=True)
class MallDetail:
    """One store's part of a mall transaction."""

    commerce_code: str
    buy_order: str
    amount: int | None
    status: str
    response_code: int | None
    authorization_code: str
    payment_type_code: str
    installments_number: int
    installments_amount: int | None
    balance: int | None

    @property
    def approved(self):
        return (
            self.status == const.APPROVED_STATUS
            and self.response_code == const.APPROVED_RESPONSE_CODE
        )


@dataclass(frozen=True)
class MallResult:
    """What authorize and status answer about a mall transaction."""

    buy_order: str
    card_last4: str
    transaction_date: str
    accounting_date: str
    details: tuple

    @classmethod
    def from_json(cls, data):
        if not isinstance(data, dict) or not isinstance(data.get("details"), list):
            raise WebpayUnknownOutcome("Transbank's answer has no transaction details")
        card = data.get("card_detail") or {}
        details = []
        for item in data["details"]:
            if not isinstance(item, dict):
                raise WebpayUnknownOutcome("Transbank's answer has an unreadable detail")
            details.append(
                MallDetail(
                    commerce_code=str(item.get("commerce_code") or ""),
                    buy_order=str(item.get("buy_order") or ""),
                    amount=parse_int(item.get("amount")),
                    status=str(item.get("status") or ""),
                    response_code=parse_int(item.get("response_code")),
                    authorization_code=str(item.get("authorization_code") or ""),
                    payment_type_code=str(item.get("payment_type_code") or ""),
                    installments_number=parse_int(item.get("installments_number")) or 0,
                    installments_amount=parse_int(item.get("installments_amount")),
                    balance=parse_int(item.get("balance")),
                )
            )
        return cls(
            buy_order=str(data.get("buy_order") or ""),
            card_last4=str(card.get("card_number") or "")[-4:],
            transaction_date=str(data.get("transaction_date") or ""),
            accounting_date=str(data.get("accounting_date") or ""),
            details=tuple(details),
        )

    def detail(self, commerce_code, buy_order):
        """The detail of `commerce_code` for `buy_order`, or None."""
        for item in self.details:
            if item.commerce_code == commerce_code and item.buy_order == buy_order:
                return item
        return None


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
