"""Transbank Webpay Plus Mall (REST v1.2): one payment, a part per store.

No Odoo imports. A mall commerce code opens the transaction; each detail
names the store (its own commerce code), the store's buy order and amount.
Commit, status, refunds and capture answer or act per store.
"""

from dataclasses import dataclass

from . import webpay_const as const
from .webpay_rest import (
    AuthorizationOutcome,
    CaptureResult,
    RefundResult,
    WebpayClient,
    WebpayUnknownOutcome,
    check_buy_order,
    clp_amount,
    parse_int,
)


@dataclass(frozen=True)
class MallDetail(AuthorizationOutcome):
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


@dataclass(frozen=True)
class MallResult:
    """What commit, authorize and status answer about a mall transaction."""

    buy_order: str
    card_last4: str
    transaction_date: str
    accounting_date: str
    details: tuple
    vci: str = ""

    @classmethod
    def from_json(cls, data):
        if not isinstance(data, dict) or not isinstance(data.get("details"), list):
            raise WebpayUnknownOutcome("Transbank's answer has no transaction details")
        card = data.get("card_detail")
        card = card if isinstance(card, dict) else {}
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
            vci=str(data.get("vci") or ""),
        )

    def detail(self, commerce_code, buy_order):
        """The detail of `commerce_code` for `buy_order`, or None."""
        for item in self.details:
            if item.commerce_code == commerce_code and item.buy_order == buy_order:
                return item
        return None


def _details(parts):
    return [
        {
            "amount": clp_amount(amount),
            "commerce_code": store_code,
            "buy_order": check_buy_order(store_buy_order),
        }
        for store_code, store_buy_order, amount in parts
    ]


class MallClient(WebpayClient):
    """Webpay Plus Mall calls with the mall's commerce code."""

    def create_mall_transaction(self, buy_order, session_id, return_url, parts):
        """Open a mall transaction; `parts` are (store code, store buy order, amount)."""
        if len(return_url) > const.RETURN_URL_MAX_LENGTH:
            raise ValueError("return_url is longer than Transbank accepts")
        payload = {
            "buy_order": check_buy_order(buy_order),
            "session_id": session_id[: const.SESSION_ID_MAX_LENGTH],
            "return_url": return_url,
            "details": _details(parts),
        }
        body = self._call("POST", "/transactions", payload)
        token, url = body.get("token"), body.get("url")
        if not token or not url:
            raise WebpayUnknownOutcome("Transbank's answer has no token or url")
        return token, url

    def commit_mall(self, token):
        return MallResult.from_json(self._call("PUT", f"/transactions/{token}"))

    def mall_status(self, token):
        return MallResult.from_json(self._call("GET", f"/transactions/{token}"))

    def refund_store(self, token, store_code, store_buy_order, amount):
        payload = {
            "commerce_code": store_code,
            "buy_order": store_buy_order,
            "amount": clp_amount(amount),
        }
        return RefundResult.from_json(self._call("POST", f"/transactions/{token}/refunds", payload))

    def capture_store(self, token, store_code, store_buy_order, authorization_code, amount):
        payload = {
            "commerce_code": store_code,
            "buy_order": store_buy_order,
            "authorization_code": authorization_code,
            "capture_amount": clp_amount(amount),
        }
        return CaptureResult.from_json(self._call("PUT", f"/transactions/{token}/capture", payload))
