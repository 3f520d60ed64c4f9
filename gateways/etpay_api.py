"""ETpay's pay-in API: open a session, ask a payment's status. No Odoo imports.

Credentials travel in the JSON body (ETpay has no auth header). Outcomes the
caller cannot know (timeout, dropped connection, 5xx, unreadable body) raise
`EtpayUnknownOutcome`; refusals (4xx) raise `EtpayRejected` with ETpay's message.
"""

from dataclasses import dataclass

import requests

from . import etpay_const as const
from .clp import clp_amount
from .urls import join_url


class EtpayError(Exception):
    """Base class of everything this client raises."""


class EtpayUnknownOutcome(EtpayError):
    """ETpay may or may not have acted on the call."""


class EtpayRejected(EtpayError):
    """ETpay refused the call (HTTP 4xx)."""

    def __init__(self, status_code, message):
        super().__init__(f"HTTP {status_code}: {message}")
        self.status_code = status_code
        self.message = message


def check_order_id(order_id):
    """Return `order_id` if ETpay accepts it as `merchant_order_id`, else raise ValueError."""
    if not const.ORDER_ID_PATTERN.match(order_id or ""):
        raise ValueError(
            f"merchant_order_id must be 1 to {const.ORDER_ID_MAX_LENGTH} letters, digits or '-'"
        )
    return order_id


def session_page_url(payment_page_url, session_token):
    """Where the payer's browser goes: ETpay's funnel for the session (a plain GET)."""
    return join_url(payment_page_url, const.SESSION_PAGE_PATH + session_token)


@dataclass(frozen=True)
class Session:
    token: str
    signature_token: str
    terms_url: str


@dataclass(frozen=True)
class PaymentStatus:
    """One element of `check_payment_status`'s answer."""

    payment_token: str
    session_token: str
    merchant_order_id: str
    payment_status: str
    amount: int | None

    @classmethod
    def from_json(cls, data):
        if not isinstance(data, dict):
            raise EtpayUnknownOutcome("a status element is not a JSON object")
        return cls(
            payment_token=str(data.get("payment_token") or ""),
            session_token=str(data.get("session_token") or ""),
            merchant_order_id=str(data.get("merchant_order_id") or ""),
            payment_status=str(data.get("payment_status") or ""),
            amount=parse_amount(data.get("order_amount", data.get("amount"))),
        )

    @property
    def outcome(self):
        return const.outcome_of(self.payment_status)


def parse_amount(value):
    if value in (None, ""):
        return None
    try:
        return int(round(float(value)))
    except (TypeError, ValueError, OverflowError) as error:
        raise EtpayUnknownOutcome("unreadable amount") from error


class EtpayClient:
    def __init__(self, api_url, merchant_code, api_token, timeout=const.TIMEOUT, session=None):
        self.api_url = api_url
        self.merchant_code = merchant_code or ""
        self.api_token = api_token or ""
        self.timeout = timeout
        self.session = session or requests

    def _post(self, path, payload):
        body = {
            "merchant_code": self.merchant_code,
            "merchant_api_token": self.api_token,
            **payload,
        }
        try:
            response = self.session.post(
                join_url(self.api_url, path),
                json=body,
                headers={"Accept": "application/json"},
                timeout=self.timeout,
            )
        except requests.RequestException as error:
            raise EtpayUnknownOutcome(f"{type(error).__name__} calling ETpay") from error
        if response.status_code >= 500:
            raise EtpayUnknownOutcome(f"ETpay answered HTTP {response.status_code}")
        try:
            answer = response.json()
        except ValueError as error:
            if response.status_code >= 400:
                raise EtpayRejected(response.status_code, "no readable message") from error
            raise EtpayUnknownOutcome("ETpay's answer is not JSON") from error
        if response.status_code >= 400:
            # Only ETpay's message: the rest of an error body may echo our request.
            message = answer.get("message") if isinstance(answer, dict) else None
            raise EtpayRejected(response.status_code, str(message or "no message")[:200])
        return answer

    def initialize_session(
        self,
        order_id,
        amount,
        *,
        customer_email=None,
        metadata=(),
        completed_url=None,
        cancellation_url=None,
        webhook_url=None,
        bank_code=None,
        payer_rut=None,
        lock_rut=False,
    ):
        """Open a payment session; return its `Session`."""
        payload = {
            "merchant_order_id": check_order_id(order_id),
            "order_amount": clp_amount(amount),
        }
        optional = {
            "customer_email": customer_email,
            "metadata": [
                {"name": str(name), "value": str(value), "show": bool(show)}
                for name, value, show in metadata
            ],
            "payment_completed_url": completed_url,
            "payment_cancellation_url": cancellation_url,
            "payment_webhook_url": webhook_url,
            "user_bank_code": bank_code,
            "user_rut": payer_rut,
        }
        payload.update({key: value for key, value in optional.items() if value})
        if payer_rut and lock_rut:
            payload["is_rut_block"] = True
        answer = self._post(const.INITIALIZE_PATH, payload)
        if not isinstance(answer, dict):
            raise EtpayUnknownOutcome("ETpay's session answer is not a JSON object")
        token, signature_token = answer.get("token"), answer.get("signature_token")
        if not isinstance(token, str) or not token or not isinstance(signature_token, str):
            raise EtpayUnknownOutcome("ETpay's session answer has no token")
        # The token becomes a path segment of the payer's URL: nothing else may ride along.
        if not signature_token or not const.SESSION_TOKEN_PATTERN.match(token):
            raise EtpayUnknownOutcome("ETpay's session answer is unusable")
        return Session(token, signature_token, str(answer.get("terms_url") or ""))

    def payment_status(self, *, session_token=None, order_id=None, payment_token=None):
        """The payments ETpay knows for the keys given (a list, maybe empty)."""
        keys = {
            "session_token": session_token,
            "merchant_order_id": order_id,
            "payment_token": payment_token,
        }
        keys = {key: value for key, value in keys.items() if value}
        if not keys:
            raise ValueError("a status query needs a session, order or payment token")
        answer = self._post(const.STATUS_PATH, keys)
        if isinstance(answer, dict):  # a single payment rather than a list
            answer = [answer]
        if not isinstance(answer, list):
            raise EtpayUnknownOutcome("ETpay's status answer is not a list")
        return [PaymentStatus.from_json(element) for element in answer]


def payment_for_session(payments, session_token, order_id):
    """The payments of `payments` that belong to our session (or, when ETpay does not
    name sessions, to our order)."""
    with_session = [p for p in payments if p.session_token]
    if with_session:
        return [p for p in with_session if p.session_token == session_token]
    return [p for p in payments if p.merchant_order_id == order_id]
