"""Transbank Webpay Plus REST API: a small client and the return-URL rules.

No Odoo imports: this module knows Transbank's protocol and nothing else.
Outcomes the caller cannot know (timeout, dropped connection, 5xx, unreadable
body) raise `WebpayUnknownOutcome`: they are resolved by asking the status,
never by retrying a commit.
"""

import re
from dataclasses import dataclass

import requests

from . import webpay_const as const
from .clp import clp_amount

_BUY_ORDER_CHARS = re.compile(r"^[A-Za-z0-9" + re.escape(const.BUY_ORDER_SYMBOLS) + r"]+$")


class WebpayError(Exception):
    """Base class of everything this client raises."""


class WebpayUnknownOutcome(WebpayError):
    """The call may or may not have taken effect at Transbank."""


class WebpayRejected(WebpayError):
    """Transbank answered the call with an error (HTTP 4xx)."""

    def __init__(self, status_code, message):
        super().__init__(f"HTTP {status_code}: {message}")
        self.status_code = status_code
        self.message = message


def check_buy_order(buy_order):
    """Return `buy_order` if Transbank accepts it, else raise ValueError."""
    if not buy_order or len(buy_order) > const.BUY_ORDER_MAX_LENGTH:
        raise ValueError(f"buy_order must have 1 to {const.BUY_ORDER_MAX_LENGTH} characters")
    if not _BUY_ORDER_CHARS.match(buy_order):
        raise ValueError("buy_order has characters Transbank does not accept")
    return buy_order


def parse_int(value):
    if value in (None, ""):
        return None
    try:
        return int(float(value))  # the SDKs send numbers as strings too
    except (TypeError, ValueError, OverflowError) as error:
        raise WebpayUnknownOutcome(f"unreadable number {value!r}") from error


class AuthorizationOutcome:
    """Approved or failed, read from `status` and `response_code` (a sale or a store's part)."""

    @property
    def approved(self):
        return (
            self.status == const.APPROVED_STATUS
            and self.response_code == const.APPROVED_RESPONSE_CODE
        )

    @property
    def failed(self):
        return self.status in const.FAILED_STATUSES or (
            self.response_code is not None
            and self.response_code != const.APPROVED_RESPONSE_CODE
            and self.status != "INITIALIZED"
        )


@dataclass(frozen=True)
class TransactionResult(AuthorizationOutcome):
    """What commit and status answer about one Webpay transaction."""

    status: str
    response_code: int | None
    amount: int | None
    buy_order: str
    session_id: str
    authorization_code: str
    card_last4: str
    payment_type_code: str
    installments_number: int
    installments_amount: int | None
    transaction_date: str
    accounting_date: str
    vci: str
    balance: int | None

    @classmethod
    def from_json(cls, data):
        if not isinstance(data, dict) or "status" not in data:
            raise WebpayUnknownOutcome("Transbank's answer has no transaction status")

        card = data.get("card_detail")
        card = card if isinstance(card, dict) else {}
        return cls(
            status=str(data.get("status") or ""),
            response_code=parse_int(data.get("response_code")),
            amount=parse_int(data.get("amount")),
            buy_order=str(data.get("buy_order") or ""),
            session_id=str(data.get("session_id") or ""),
            authorization_code=str(data.get("authorization_code") or ""),
            card_last4=str(card.get("card_number") or "")[-4:],
            payment_type_code=str(data.get("payment_type_code") or ""),
            installments_number=parse_int(data.get("installments_number")) or 0,
            installments_amount=parse_int(data.get("installments_amount")),
            transaction_date=str(data.get("transaction_date") or ""),
            accounting_date=str(data.get("accounting_date") or ""),
            vci=str(data.get("vci") or ""),
            balance=parse_int(data.get("balance")),
        )


@dataclass(frozen=True)
class RefundResult:
    """Transbank's answer to a refund: it alone decides reversal or nullification."""

    type: str
    authorization_code: str
    authorization_date: str
    nullified_amount: int | None
    balance: int | None
    response_code: int | None

    @classmethod
    def from_json(cls, data):
        if not isinstance(data, dict) or data.get("type") not in const.REFUND_TYPES:
            raise WebpayUnknownOutcome("Transbank's refund answer has no known type")
        return cls(
            type=data["type"],
            authorization_code=str(data.get("authorization_code") or ""),
            authorization_date=str(data.get("authorization_date") or ""),
            nullified_amount=parse_int(data.get("nullified_amount")),
            balance=parse_int(data.get("balance")),
            response_code=parse_int(data.get("response_code")),
        )

    @property
    def accepted(self):
        # A reversal answers only its type; a nullification carries a response code.
        if self.type == const.REFUND_REVERSED:
            return self.response_code in (None, const.APPROVED_RESPONSE_CODE)
        return self.response_code == const.APPROVED_RESPONSE_CODE


@dataclass(frozen=True)
class CaptureResult:
    """Transbank's answer to a deferred capture."""

    authorization_code: str
    authorization_date: str
    captured_amount: int | None
    response_code: int | None

    @classmethod
    def from_json(cls, data):
        if not isinstance(data, dict) or "response_code" not in data:
            raise WebpayUnknownOutcome("Transbank's capture answer has no response code")
        return cls(
            authorization_code=str(data.get("authorization_code") or ""),
            authorization_date=str(data.get("authorization_date") or ""),
            captured_amount=parse_int(data.get("captured_amount")),
            response_code=parse_int(data.get("response_code")),
        )

    @property
    def accepted(self):
        return self.response_code == const.APPROVED_RESPONSE_CODE


class WebpayClient:
    """Webpay Plus calls against one base URL with one commerce code."""

    api_path = const.API_PATH

    def __init__(self, base_url, commerce_code, api_key, timeout=const.TIMEOUT, session=None):
        self.base_url = base_url.rstrip("/") + self.api_path
        self.headers = {
            "Tbk-Api-Key-Id": commerce_code or "",
            "Tbk-Api-Key-Secret": api_key or "",
            "Content-Type": "application/json",
        }
        self.timeout = timeout
        self.session = session or requests.Session()

    def _call(self, method, path, payload=None):
        try:
            response = self.session.request(
                method,
                f"{self.base_url}{path}",
                json=payload,
                headers=self.headers,
                timeout=self.timeout,
            )
        except requests.RequestException as error:
            raise WebpayUnknownOutcome(f"{type(error).__name__} calling Transbank") from error
        if response.status_code >= 500:
            raise WebpayUnknownOutcome(f"Transbank answered HTTP {response.status_code}")
        if response.status_code == 204:  # e.g. a deleted inscription: nothing to read
            return {}
        try:
            body = response.json()
        except ValueError as error:
            if response.status_code >= 400:
                raise WebpayRejected(response.status_code, response.text[:200]) from error
            raise WebpayUnknownOutcome("Transbank's answer is not JSON") from error
        if response.status_code >= 400:
            message = body.get("error_message") if isinstance(body, dict) else None
            raise WebpayRejected(response.status_code, message or str(body)[:200])
        if not isinstance(body, dict):
            raise WebpayUnknownOutcome("Transbank's answer is not a JSON object")
        return body

    def create_transaction(self, buy_order, session_id, amount, return_url):
        """Open a transaction; return (token, url of Transbank's payment form)."""
        payload = {
            "buy_order": check_buy_order(buy_order),
            "session_id": session_id[: const.SESSION_ID_MAX_LENGTH],
            "amount": clp_amount(amount),
            "return_url": return_url,
        }
        if len(return_url) > const.RETURN_URL_MAX_LENGTH:
            raise ValueError("return_url is longer than Transbank accepts")
        body = self._call("POST", "/transactions", payload)
        token, url = body.get("token"), body.get("url")
        if not token or not url:
            raise WebpayUnknownOutcome("Transbank's answer has no token or url")
        return token, url

    def commit_transaction(self, token):
        """Confirm the transaction after the shopper's return (at most once per token)."""
        return TransactionResult.from_json(self._call("PUT", f"/transactions/{token}"))

    def transaction_status(self, token):
        """Ask what Transbank knows of the transaction (valid for 7 days)."""
        return TransactionResult.from_json(self._call("GET", f"/transactions/{token}"))

    def refund_transaction(self, token, amount):
        """Give back `amount` of a paid (or only authorized) transaction."""
        body = self._call("POST", f"/transactions/{token}/refunds", {"amount": clp_amount(amount)})
        return RefundResult.from_json(body)

    def capture_transaction(self, token, buy_order, authorization_code, amount):
        """Capture a deferred-capture authorization (once per authorization)."""
        payload = {
            "buy_order": buy_order,
            "authorization_code": authorization_code,
            "capture_amount": clp_amount(amount),
        }
        return CaptureResult.from_json(self._call("PUT", f"/transactions/{token}/capture", payload))


# --- the return URL ---------------------------------------------------------

RETURN_COMMIT = "commit"  # token_ws alone: the form finished, approved or not
RETURN_ABORTED = "aborted"  # TBK_TOKEN: the shopper pressed "Anular"
RETURN_TIMEOUT = "timeout"  # only TBK_ORDEN_COMPRA and TBK_ID_SESION
RETURN_FORM_ERROR = "form_error"  # token_ws and TBK_TOKEN: error page on the form
RETURN_INVALID = "invalid"


@dataclass(frozen=True)
class ReturnCase:
    kind: str
    token: str = ""
    buy_order: str = ""
    session_id: str = ""


def classify_return(params):
    """Tell which of Transbank's documented return cases `params` (GET or POST) is."""
    token_ws = (params.get("token_ws") or "").strip()
    tbk_token = (params.get("TBK_TOKEN") or "").strip()
    buy_order = (params.get("TBK_ORDEN_COMPRA") or "").strip()
    session_id = (params.get("TBK_ID_SESION") or "").strip()
    if token_ws and tbk_token:
        return ReturnCase(RETURN_FORM_ERROR, token_ws, buy_order, session_id)
    if token_ws:
        return ReturnCase(RETURN_COMMIT, token_ws)
    if tbk_token:
        return ReturnCase(RETURN_ABORTED, tbk_token, buy_order, session_id)
    if buy_order and session_id:
        return ReturnCase(RETURN_TIMEOUT, "", buy_order, session_id)
    return ReturnCase(RETURN_INVALID)
