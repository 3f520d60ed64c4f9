"""Transbank's legacy SOAP Oneclick: Normal (OneClickPaymentService) and Mall
(WSOneClickMulticodeService). No Odoo imports.

Both services save a card at Transbank (initInscription, the shopper's form,
finishInscription → `tbk_user`) and then charge it without the shopper
(authorize). Calls are signed and answers verified by `webpay_soap.SoapService`;
results reuse the REST classes where they fit, so the models read one shape.

Outcomes:
- `SoapFault` (a `WebpayRejected`): Transbank refused the call; nothing moved.
- `WebpayUnknownOutcome` (`SignatureInvalid` included): no trustworthy answer.
  For `authorize` it is an `AuthorizeUnknown`, which says how to settle it:
  the card *may* have been charged. **Never retry an authorize** (a second one
  is a second charge). Transbank's remedy is a reversal:
  Oneclick Mall `reverse(buy_order)` within 30 seconds of sending authorize
  (`AuthorizeUnknown.reverse_seconds_left()`), Oneclick Normal
  `reverse(buy_order)` the same accounting day. Whether and when to reverse is
  the caller's decision; this module only tells it the deadline.
- A charge the issuer declines is an answer, not an exception: read
  `.approved` / `.response_code` (per store for Mall).
"""

import time
from dataclasses import dataclass
from datetime import datetime

import requests

from . import webpay_soap_const as soap_const
from . import webpay_soap_oneclick_const as const
from .clp import clp_amount
from .webpay_mall import MallDetail, MallResult
from .webpay_rest import CaptureResult, WebpayUnknownOutcome, parse_int
from .webpay_soap import SoapFault, SoapService, commerce_code_12, nullification_result
from .wsse_signature import SignatureInvalid, Signer, check_certificate

__all__ = [
    "AuthorizeUnknown",
    "InscriptionResult",
    "InscriptionStart",
    "MallReversal",
    "NormalAuthorization",
    "OneclickMallClient",
    "OneclickNormalClient",
    "Reversal",
    "SignatureInvalid",
    "SoapFault",
    "StoreReversal",
]

_AUTHORIZED = "AUTHORIZED"
_FAILED = "FAILED"


class AuthorizeUnknown(WebpayUnknownOutcome):
    """authorize got no trustworthy answer: the card may or may not have been charged.

    Do not authorize again. `buy_order` is what to reverse; for Oneclick Mall
    `reverse_seconds_left()` is how long `reverse` is still accepted (counted
    from *sending* authorize, so it errs on the early side); None for Normal,
    whose reversal is good all the accounting day.
    """

    def __init__(self, message, buy_order, deadline=None, monotonic=time.monotonic):
        super().__init__(message)
        self.buy_order = buy_order
        self.deadline = deadline
        self._monotonic = monotonic

    def reverse_seconds_left(self):
        if self.deadline is None:
            return None
        return max(0.0, self.deadline - self._monotonic())


# --- results ---------------------------------------------------------------------


@dataclass(frozen=True)
class InscriptionStart:
    """Where to send the shopper: POST `form_fields` to `url`."""

    token: str
    url: str

    @property
    def form_fields(self):
        return {const.TOKEN_FIELD: self.token}


@dataclass(frozen=True)
class InscriptionResult:
    """finishInscription's answer (Normal and Mall; the card details Mall adds default)."""

    response_code: int | None
    tbk_user: str
    authorization_code: str
    card_type: str
    card_last4: str
    card_expiration_date: str = ""
    card_origin: str = ""

    @property
    def accepted(self):
        return self.response_code == const.APPROVED_RESPONSE_CODE and bool(self.tbk_user)


@dataclass(frozen=True)
class NormalAuthorization:
    """Oneclick Normal authorize's answer; `buy_order` and `amount` are what was asked."""

    buy_order: int
    amount: int
    response_code: int
    authorization_code: str
    transaction_id: int | None
    card_type: str
    card_last4: str

    @property
    def approved(self):
        return self.response_code == const.APPROVED_RESPONSE_CODE

    @property
    def status(self):
        """REST's vocabulary, for callers shared with the REST client."""
        return _AUTHORIZED if self.approved else _FAILED


@dataclass(frozen=True)
class Reversal:
    """codeReverseOneClick's or reverseNullification's answer."""

    reversed: bool
    reverse_code: str


@dataclass(frozen=True)
class StoreReversal:
    commerce_code: str
    buy_order: str
    reversed: bool
    reverse_code: str


@dataclass(frozen=True)
class MallReversal:
    """Oneclick Mall reverse's answer: one entry per store of the operation."""

    buy_order: str
    stores: tuple

    @property
    def reversed(self):
        """True only when every store's part was reversed."""
        return bool(self.stores) and all(store.reversed for store in self.stores)


# --- reading answers -----------------------------------------------------------------


def _text(value):
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _answer(answer, what):
    if not isinstance(answer, dict):
        raise WebpayUnknownOutcome(f"Transbank's {what} answer is empty or unreadable")
    return answer


def _boolean(answer, what):
    # A removal answers a bare xs:boolean; anything else is no answer.
    if not isinstance(answer, bool):
        raise WebpayUnknownOutcome(f"Transbank's {what} answer is not a boolean")
    return answer


def _reversal(answer, what):
    answer = _answer(answer, what)
    if not isinstance(answer.get("reversed"), bool):
        raise WebpayUnknownOutcome(f"Transbank's {what} answer has no reversed flag")
    return Reversal(reversed=answer["reversed"], reverse_code=_text(answer.get("reverseCode")))


def _check_text(value, name, max_length):
    value = value or ""
    if not value or len(value) > max_length:
        raise ValueError(f"{name} must have 1 to {max_length} characters")
    return value


def _long_buy_order(buy_order):
    """An xs:long buy order (Normal's, the mall's): a positive integer."""
    text = str(buy_order).strip()
    if not text.isdigit() or not 0 < int(text) <= const.LONG_BUY_ORDER_MAX:
        raise ValueError("this buy order is an xs:long: a positive whole number")
    return int(text)


def _store_buy_order(buy_order):
    return _check_text(str(buy_order or ""), "a store buy order", const.STORE_BUY_ORDER_MAX_LENGTH)


def _amount(amount):
    value = clp_amount(amount)
    if len(str(value)) > const.AMOUNT_MAX_DIGITS:
        raise ValueError(f"an amount has at most {const.AMOUNT_MAX_DIGITS} digits")
    return value


# --- the clients ------------------------------------------------------------------------


class _OneclickSoapClient:
    """What both services share: one SOAP service, signed with one key, and the inscription."""

    wsdl_name = None
    # Seconds after authorize during which `reverse` works; None: no fixed window.
    reverse_window_seconds = None

    def __init__(
        self,
        base_url,
        commerce_code,
        private_key_pem,
        certificate_pem,
        transbank_certificate_pem,
        timeout=soap_const.TIMEOUT,
        session=None,
        monotonic=time.monotonic,
        key_checked=False,
    ):
        check_certificate(transbank_certificate_pem, "Transbank's certificate")
        self.commerce_code = commerce_code_12(commerce_code)
        self.monotonic = monotonic
        signer = Signer(private_key_pem, certificate_pem, key_checked)
        signer.check_pair()
        self.service = SoapService(
            self.wsdl_name,
            base_url,
            signer,
            transbank_certificate_pem,
            timeout=timeout,
            session=session or requests.Session(),
        )

    def _call(self, operation, timeout=None, **arguments):
        # Every operation of both WSDLs takes one wrapped parameter, `arg0`.
        return self.service.call(operation, arg0=arguments, timeout=timeout)

    @staticmethod
    def _inscription_input(username, email, return_url):
        return (
            _check_text(username, "username", const.USERNAME_MAX_LENGTH),
            _check_text(email, "email", const.EMAIL_MAX_LENGTH),
            _check_text(return_url, "the return URL", const.RESPONSE_URL_MAX_LENGTH),
        )

    def _authorize(self, buy_order, read, **arguments):
        """Send authorize once; any untrustworthy answer becomes AuthorizeUnknown."""
        window = self.reverse_window_seconds
        deadline = None if window is None else self.monotonic() + window
        try:
            # A shorter wait than other calls: a lost answer must leave time to reverse.
            return read(self._call("authorize", timeout=const.AUTHORIZE_TIMEOUT, **arguments))
        except SoapFault:
            raise  # Transbank refused: nothing was charged
        except WebpayUnknownOutcome as error:
            raise AuthorizeUnknown(
                f"authorize {buy_order}: {error}; do not retry, reverse it",
                buy_order,
                deadline,
                self.monotonic,
            ) from error


class OneclickNormalClient(_OneclickSoapClient):
    """Oneclick Normal (OneClickPaymentService): the merchant's own commerce code."""

    wsdl_name = const.NORMAL_WSDL

    def init_inscription(self, username, email, response_url):
        """Start saving a card; POST the shopper to the answer's `url` with TBK_TOKEN."""
        username, email, response_url = self._inscription_input(username, email, response_url)
        answer = _answer(
            self._call("initInscription", email=email, responseURL=response_url, username=username),
            "initInscription",
        )
        token, url = _text(answer.get("token")), _text(answer.get("urlWebpay"))
        if not token or not url:
            raise WebpayUnknownOutcome("Transbank's answer has no token or urlWebpay")
        return InscriptionStart(token, url)

    def finish_inscription(self, token):
        """After the shopper's return (TBK_TOKEN): the `tbk_user` to pay with, if accepted."""
        answer = _answer(self._call("finishInscription", token=token), "finishInscription")
        code = parse_int(answer.get("responseCode"))
        if code is None:
            raise WebpayUnknownOutcome("Transbank's inscription answer has no response code")
        return InscriptionResult(
            response_code=code,
            tbk_user=_text(answer.get("tbkUser")),
            authorization_code=_text(answer.get("authCode")),
            card_type=_text(answer.get("creditCardType")),
            card_last4=_text(answer.get("last4CardDigits"))[-4:],
        )

    def authorize(self, buy_order, tbk_user, username, amount):
        """Charge the saved card once. A lost answer raises AuthorizeUnknown: never retry."""
        buy_order, amount = _long_buy_order(buy_order), _amount(amount)

        def read(answer):
            answer = _answer(answer, "authorize")
            code = parse_int(answer.get("responseCode"))
            if code is None:
                raise WebpayUnknownOutcome("Transbank's authorize answer has no response code")
            authorization_code = _text(answer.get("authorizationCode"))
            if code == const.APPROVED_RESPONSE_CODE and not authorization_code:
                raise WebpayUnknownOutcome("an approved authorize without authorization code")
            return NormalAuthorization(
                buy_order=buy_order,
                amount=amount,
                response_code=code,
                authorization_code=authorization_code,
                transaction_id=parse_int(answer.get("transactionId")),
                card_type=_text(answer.get("creditCardType")),
                card_last4=_text(answer.get("last4CardDigits"))[-4:],
            )

        return self._authorize(
            buy_order, read, amount=amount, buyOrder=buy_order, tbkUser=tbk_user, username=username
        )

    def reverse(self, buy_order):
        """codeReverseOneClick: undo a charge the same accounting day (e.g. an unknown
        authorize). A lost answer may be resolved by reversing again."""
        answer = self._call("codeReverseOneClick", buyOrder=_long_buy_order(buy_order))
        return _reversal(answer, "codeReverseOneClick")

    def remove_user(self, tbk_user, username):
        """Forget the saved card; True when Transbank removed it."""
        return _boolean(self._call("removeUser", tbkUser=tbk_user, username=username), "removeUser")


class OneclickMallClient(_OneclickSoapClient):
    """Oneclick Mall (WSOneClickMulticodeService): the mall's commerce code signs;
    each payment has one part per store (a child commerce code)."""

    wsdl_name = const.MALL_WSDL
    reverse_window_seconds = const.MALL_REVERSE_WINDOW_SECONDS

    def init_inscription(self, username, email, return_url):
        """Start saving a card; POST the shopper to the answer's `url` with TBK_TOKEN."""
        username, email, return_url = self._inscription_input(username, email, return_url)
        answer = _answer(
            self._call("initInscription", username=username, email=email, returnUrl=return_url),
            "initInscription",
        )
        token, url = _text(answer.get("token")), _text(answer.get("urlInscriptionForm"))
        if not token or not url:
            raise WebpayUnknownOutcome("Transbank's answer has no token or urlInscriptionForm")
        return InscriptionStart(token, url)

    def finish_inscription(self, token):
        answer = _answer(self._call("finishInscription", token=token), "finishInscription")
        code = parse_int(answer.get("responseCode"))
        if code is None:
            raise WebpayUnknownOutcome("Transbank's inscription answer has no response code")
        return InscriptionResult(
            response_code=code,
            tbk_user=_text(answer.get("tbkUser")),
            authorization_code=_text(answer.get("authorizationCode")),
            card_type=_text(answer.get("creditCardType")),
            card_last4=_text(answer.get("cardNumber"))[-4:],
            card_expiration_date=_text(answer.get("cardExpirationDate")),
            card_origin=_text(answer.get("cardOrigin")),
        )

    def authorize(self, buy_order, tbk_user, username, parts):
        """Charge the saved card for several stores in one operation.

        `parts` are (store code, store buy order, amount) or (..., installments).
        Returns a `MallResult` with one `MallDetail` per part asked, in the
        order asked; each store is approved or declined on its own. An answer
        that does not match what was asked (a store missing, added, or with
        another amount) is no answer: AuthorizeUnknown, like a lost one.
        """
        buy_order = _long_buy_order(buy_order)
        stores = [self._store_input(*part) for part in parts]
        if not stores:
            raise ValueError("a Oneclick Mall payment needs at least one store part")
        keys = [(item["commerceId"], item["buyOrder"]) for item in stores]
        if len(set(keys)) != len(keys):
            raise ValueError("two parts for the same store and store buy order")

        def read(answer):
            return self._read_authorization(_answer(answer, "authorize"), buy_order, stores)

        return self._authorize(
            buy_order,
            read,
            buyOrder=buy_order,
            tbkUser=tbk_user,
            username=username,
            storesInput=stores,
        )

    @staticmethod
    def _store_input(store_code, store_buy_order, amount, installments=1):
        if not isinstance(installments, int) or installments < 1:
            raise ValueError("installments must be a whole number from 1")
        return {
            "commerceId": int(commerce_code_12(store_code)),
            "buyOrder": _store_buy_order(store_buy_order),
            "amount": _amount(amount),
            "sharesNumber": installments,
        }

    def _read_authorization(self, answer, buy_order, stores):
        if _text(answer.get("buyOrder")) != str(buy_order):
            raise WebpayUnknownOutcome("Transbank's answer is about another buy order")
        mall = answer.get("commerceId")
        if mall is not None and str(mall) != self.commerce_code:
            raise WebpayUnknownOutcome("Transbank's answer is about another mall")
        outputs = answer.get("storesOutput") or []
        if not isinstance(outputs, list) or len(outputs) != len(stores):
            raise WebpayUnknownOutcome("Transbank's answer does not have one part per store")
        by_key = {}
        for item in outputs:
            key = (parse_int(item.get("commerceId")), _text(item.get("buyOrder")))
            if key in by_key:
                raise WebpayUnknownOutcome("Transbank's answer repeats a store")
            by_key[key] = item
        details = []
        for asked in stores:
            item = by_key.get((asked["commerceId"], asked["buyOrder"]))
            if item is None:
                raise WebpayUnknownOutcome("Transbank's answer lacks a store asked for")
            details.append(self._detail(asked, item))
        return MallResult(
            buy_order=str(buy_order),
            card_last4="",  # Oneclick Mall's authorize does not repeat the card
            transaction_date=_text(answer.get("authorizationDate")),
            accounting_date=_text(answer.get("settlementDate")),
            details=tuple(details),
        )

    @staticmethod
    def _detail(asked, item):
        code = parse_int(item.get("responseCode"))
        if code is None:
            raise WebpayUnknownOutcome("a store's part has no response code")
        if parse_int(item.get("amount")) != asked["amount"]:
            raise WebpayUnknownOutcome("a store's part is about another amount")
        authorization_code = _text(item.get("authorizationCode"))
        approved = code == const.APPROVED_RESPONSE_CODE
        if approved and not authorization_code:
            raise WebpayUnknownOutcome("an approved store part without authorization code")
        return MallDetail(
            commerce_code=str(asked["commerceId"]),
            buy_order=asked["buyOrder"],
            amount=asked["amount"],
            status=_AUTHORIZED if approved else _FAILED,
            response_code=code,
            authorization_code=authorization_code,
            payment_type_code=_text(item.get("paymentType")),
            installments_number=parse_int(item.get("sharesNumber")) or 0,
            installments_amount=parse_int(item.get("shareAmount")),
            balance=None,
        )

    def reverse(self, buy_order):
        """Undo a whole mall operation (every store), only within 30 seconds of its
        authorize: the remedy for an AuthorizeUnknown. Later, nullify each store's
        part. A lost answer may be resolved by reversing again inside the window."""
        buy_order = str(_long_buy_order(buy_order))
        answer = self.service.call("reverse", arg0={"buyOrder": buy_order})
        if answer is None:
            answer = []
        if not isinstance(answer, list):
            answer = [answer]
        stores = []
        for item in answer:
            if not isinstance(item, dict) or not isinstance(item.get("reversed"), bool):
                raise WebpayUnknownOutcome("Transbank's reverse answer has an unreadable store")
            stores.append(
                StoreReversal(
                    commerce_code=_text(item.get("commerceId")),
                    buy_order=_text(item.get("buyOrder")),
                    reversed=item["reversed"],
                    reverse_code=_text(item.get("reverseCode")),
                )
            )
        return MallReversal(buy_order=buy_order, stores=tuple(stores))

    def nullify(self, store_code, store_buy_order, authorization_code, authorized_amount, amount):
        """Give back all or part of one store's payment (financial refund, any day).

        Returns a RefundResult of type NULLIFIED; a refusal is a SoapFault
        (Transbank's codes: 310 already nullified, 311 above the balance, ...).
        A lost answer: reverse_nullification() it, or ask out of band.
        """
        commerce_id = int(commerce_code_12(store_code))
        store_buy_order = _store_buy_order(store_buy_order)
        authorized, amount = _amount(authorized_amount), _amount(amount)
        if amount > authorized:
            raise ValueError("cannot nullify more than was authorized")
        answer = _answer(
            self._call(
                "nullify",
                commerceId=commerce_id,
                buyOrder=store_buy_order,
                authorizedAmount=authorized,
                authorizationCode=authorization_code,
                nullifyAmount=amount,
            ),
            "nullify",
        )
        if (
            _text(answer.get("buyOrder")) not in ("", store_buy_order)
            or parse_int(answer.get("commerceId")) not in (None, commerce_id)
            or not answer.get("authorizationCode")
        ):
            raise WebpayUnknownOutcome("Transbank's nullify answer is about another payment")
        return nullification_result(answer, amount, authorized)

    def reverse_nullification(self, store_code, store_buy_order, amount):
        """Undo a nullification whose answer was lost (the amount it asked for)."""
        answer = self._call(
            "reverseNullification",
            buyOrder=_store_buy_order(store_buy_order),
            commerceId=int(commerce_code_12(store_code)),
            nullifyAmount=_amount(amount),
        )
        return _reversal(answer, "reverseNullification")

    def remove_inscription(self, tbk_user, username):
        """Forget the saved card; True when Transbank removed it."""
        return _boolean(
            self._call("removeInscription", tbkUser=tbk_user, username=username),
            "removeInscription",
        )

    def capture(self, store_code, store_buy_order, authorization_code, amount):
        """Capture a store's deferred-capture authorization (once, up to its amount)."""
        authorization_code = _check_text(
            authorization_code, "authorization_code", const.AUTHORIZATION_CODE_MAX_LENGTH
        )
        amount = _amount(amount)
        answer = _answer(
            self._call(
                "capture",
                authorizationCode=authorization_code,
                buyOrder=_store_buy_order(store_buy_order),
                commerceId=int(commerce_code_12(store_code)),
                capturedAmount=amount,
            ),
            "capture",
        )
        if not answer.get("authorizationCode"):
            raise WebpayUnknownOutcome("Transbank's capture answer has no authorization code")
        if parse_int(answer.get("capturedAmount")) != amount:
            raise WebpayUnknownOutcome("Transbank's capture answer is about another amount")
        return CaptureResult(
            authorization_code=_text(answer.get("authorizationCode")),
            authorization_date=_text(answer.get("authorizationDate")),
            captured_amount=amount,
            response_code=const.APPROVED_RESPONSE_CODE,
        )
