"""Transbank Webpay legacy SOAP API: Webpay Plus Normal and Mall, capture, nullify.

No Odoo imports. Requests are built by zeep from our own WSDLs (gateways/wsdl),
signed with the merchant's key and answers verified against Transbank's
certificate (wsse_signature). Results reuse the REST client's classes, so the
models read one shape whatever the API.

Outcomes, as for REST:
- `WebpayUnknownOutcome`: no trustworthy answer (timeout, dropped connection,
  5xx without a SOAP Fault, unreadable XML, an answer about something else);
  `SignatureInvalid` is one of them: an answer that fails verification is no
  answer, Transbank may have moved the money.
- `SoapFault` (a `WebpayRejected`): Transbank's signed SOAP Fault, with the
  numeric code the spec lists.

Transbank writes the code in the faultstring, e.g. "<!-- Timeout(272) -->"
(escaped text) or just "274": the code is the last "(number)" in it, else
the whole string when it is a number, else None.
"""

import os
import re
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
import urllib3
import zeep
import zeep.exceptions
import zeep.helpers
from lxml import etree

from . import webpay_soap_const as const
from .clp import clp_amount
from .webpay_mall import MallDetail, MallResult
from .webpay_rest import (
    CaptureResult,
    RefundResult,
    TransactionResult,
    WebpayRejected,
    WebpayUnknownOutcome,
    check_buy_order,
    parse_int,
)
from .wsse_signature import SignatureInvalid, Signer, check_certificate, verify_envelope

_SOAP_BODY = "{%s}Body" % const.SOAP_ENV_NS
_FAULT_CODE_IN_PARENS = re.compile(r"\((-?\d+)\)")
_FAULT_CODE_ALONE = re.compile(r"^\s*(-?\d+)\s*$")

__all__ = [
    "AcknowledgeRefused",
    "AcknowledgeUnknown",
    "NotSent",
    "ResultNotAcknowledged",
    "ResultRefused",
    "SignatureInvalid",
    "Signer",
    "SoapFault",
    "SoapService",
    "WebpaySoapClient",
    "commerce_code_12",
    "fault_code",
]


# --- errors -------------------------------------------------------------------


class SoapFault(WebpayRejected):
    """Transbank answered a (verified) SOAP Fault: the call did not take effect."""

    def __init__(self, code, message, http_status=500):
        super().__init__(http_status, message)
        self.code = code
        self.reason = const.FAULT_REASONS.get(code, "unknown") if code is not None else "unknown"

    def __str__(self):
        return f"SOAP Fault {self.code}: {self.message}"


class NotSent(WebpayUnknownOutcome):
    """The connection to Transbank was never made: the call certainly did not arrive."""


def _never_connected(error):
    """A connection refused or timed out while connecting: no byte of the request left."""
    if isinstance(error, requests.exceptions.ConnectTimeout):
        return True
    reason = getattr(error.args[0], "reason", None) if error.args else None
    return isinstance(error, requests.ConnectionError) and isinstance(
        reason, urllib3.exceptions.NewConnectionError
    )


class ResultNotAcknowledged(WebpayUnknownOutcome):
    """getTransactionResult got no trustworthy answer, so nothing was acknowledged.

    Transbank reverses an authorization not acknowledged within 30 seconds of
    getTransactionResult: once that window has passed the caller may treat the
    payment as not made (and getTransactionResult cannot be asked again).
    """


class ResultRefused(ResultNotAcknowledged):
    """We refused the result (not the payment we asked about): never acknowledged."""

    def __init__(self, result):
        super().__init__("the result does not match the payment; not acknowledged")
        self.result = result


class AcknowledgeUnknown(WebpayUnknownOutcome):
    """The result was read but no acknowledge answer came back within the window.

    `.result` holds what getTransactionResult said. Whether Transbank keeps
    or reverses the authorization is unknown: resolve it out of band.
    """

    def __init__(self, result, message):
        super().__init__(message)
        self.result = result


class AcknowledgeRefused(SoapFault):
    """Transbank faulted the (first) acknowledge: it will reverse the authorization.

    `.result` holds what getTransactionResult said; the money does not stay.
    """

    def __init__(self, result, fault):
        super().__init__(fault.code, fault.message, fault.status_code)
        self.result = result


def fault_code(text):
    """Transbank's numeric code in a faultstring, or None (see the module docstring)."""
    text = text or ""
    found = _FAULT_CODE_IN_PARENS.findall(text)
    if found:
        return int(found[-1])
    alone = _FAULT_CODE_ALONE.match(text)
    return int(alone.group(1)) if alone else None


def commerce_code_12(code):
    """Transbank's 12-digit commerce code: 8-digit codes get the 5970 prefix."""
    code = str(code or "").strip()
    if not code.isdigit():
        raise ValueError("a Transbank commerce code is made of digits")
    if len(code) == const.SHORT_COMMERCE_CODE_LENGTH:
        code = const.COMMERCE_CODE_PREFIX + code
    if len(code) != const.COMMERCE_CODE_LENGTH:
        raise ValueError("a Transbank commerce code has 8 or 12 digits")
    return code


# --- one SOAP service -----------------------------------------------------------


class _WsseBridge:
    """zeep's wsse interface (apply on the way out, verify on the way in) over Signer."""

    def __init__(self, signer, transbank_certificate_pem):
        self.signer = signer
        self.transbank_certificate_pem = transbank_certificate_pem
        self.sending = False

    def apply(self, envelope, headers):
        signed = self.signer.sign(envelope)
        self.sending = True  # from here on, the request may reach Transbank
        return signed, headers

    def verify(self, envelope):
        signed_body = verify_envelope(envelope, self.transbank_certificate_pem)
        # zeep goes on reading `envelope`: swap in the Body exactly as verified,
        # so no unsigned byte is ever read.
        envelope.replace(envelope.find(_SOAP_BODY), signed_body)
        return envelope


class SoapService:
    """One WSDL's operations at `base_url`, signed and verified.

    `wsdl_name` is a file in gateways/wsdl (or a path). The endpoint is
    `base_url` + the path of the WSDL's soap:address (its host is a
    placeholder), unless `service_path` is given.
    """

    def __init__(
        self,
        wsdl_name,
        base_url,
        signer,
        transbank_certificate_pem,
        timeout=const.TIMEOUT,
        session=None,
        service_path=None,
    ):
        wsdl_path = (
            wsdl_name if os.path.isabs(wsdl_name) else os.path.join(const.WSDL_DIR, wsdl_name)
        )
        self.timeout = timeout
        self.transport = zeep.Transport(
            session=session or requests.Session(), timeout=timeout, operation_timeout=timeout
        )
        settings = zeep.Settings(
            strict=True, forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
        self.bridge = _WsseBridge(signer, transbank_certificate_pem)
        self.client = zeep.Client(
            wsdl_path,
            wsse=self.bridge,
            transport=self.transport,
            settings=settings,
        )
        port = next(iter(next(iter(self.client.wsdl.services.values())).ports.values()))
        path = service_path or urlsplit(port.binding_options["address"]).path
        self.address = base_url.rstrip("/") + path
        self.service = self.client.create_service(port.binding.name, self.address)

    def call(self, operation, *, timeout=None, **kwargs):
        """Call `operation`; return its answer as plain dicts/lists (None when empty)."""
        method = getattr(self.service, operation)
        # Not zeep's Transport.settings(): it leaves the timeout changed when the call raises.
        self.transport.operation_timeout = timeout or self.timeout
        self.bridge.sending = False
        try:
            answer = method(**kwargs)
        except zeep.exceptions.ValidationError as error:
            raise ValueError(f"{operation}: {error.message}") from error  # nothing was sent
        except zeep.exceptions.Fault as fault:
            if fault.code is None:  # zeep's "Unknown fault": an HTTP error with no SOAP Fault
                raise WebpayUnknownOutcome(
                    f"HTTP error without a SOAP Fault on {operation}"
                ) from fault
            raise SoapFault(fault_code(fault.message), fault.message or "") from fault
        except (zeep.exceptions.DTDForbidden, zeep.exceptions.EntitiesForbidden) as error:
            raise SignatureInvalid("the answer declares a DTD or entities") from error
        except SignatureInvalid:
            raise
        except requests.RequestException as error:
            if _never_connected(error):
                raise NotSent(f"{type(error).__name__}: Transbank was not reached") from error
            raise WebpayUnknownOutcome(f"{type(error).__name__} calling Transbank") from error
        except (zeep.exceptions.Error, etree.LxmlError) as error:
            # Transport errors, 5xx without a Fault, XML zeep cannot read. Only the
            # error's type: zeep's message can carry the whole answer (a tbkUser...).
            status = getattr(error, "status_code", None)
            raise WebpayUnknownOutcome(
                f"unreadable answer to {operation} ({type(error).__name__}, HTTP {status})"
            ) from error
        except Exception as error:
            if not self.bridge.sending:
                raise  # signing or building failed: nothing left this process
            # Whatever broke while reading the answer, the call may have taken effect.
            raise WebpayUnknownOutcome(
                f"{type(error).__name__} reading the answer to {operation}"
            ) from error
        finally:
            self.transport.operation_timeout = self.timeout
        return zeep.helpers.serialize_object(answer, dict)


# --- results --------------------------------------------------------------------


def nullification_result(answer, amount, authorized):
    """A nullify answer (Webpay Plus or Oneclick Mall) as a RefundResult, checked to be
    about `amount` of a sale of `authorized`. A fault would have raised SoapFault: an
    answer is an accepted nullification."""
    nullified, balance = parse_int(answer.get("nullifiedAmount")), parse_int(answer.get("balance"))
    if nullified != amount or balance is None or not 0 <= balance <= authorized - amount:
        raise WebpayUnknownOutcome("Transbank's nullify answer is about another amount")
    return RefundResult(
        type=const.NULLIFIED,
        authorization_code=_text(answer.get("authorizationCode")),
        authorization_date=_text(answer.get("authorizationDate")),
        nullified_amount=nullified,
        balance=balance,
        response_code=const.APPROVED_RESPONSE_CODE,
    )


@dataclass(frozen=True)
class SoapTransactionResult(TransactionResult):
    """A TransactionResult plus where to send the browser for the voucher."""

    url_redirection: str = ""


@dataclass(frozen=True)
class SoapMallResult(MallResult):
    """A MallResult plus the session id and the voucher URL."""

    session_id: str = ""
    url_redirection: str = ""


def _text(value):
    return "" if value is None else str(value)


def _detail_status(response_code):
    if response_code == const.APPROVED_RESPONSE_CODE:
        return const.AUTHORIZED_STATUS
    return const.FAILED_STATUS


def _result_header(answer):
    if not isinstance(answer, dict) or not answer.get("buyOrder"):
        raise WebpayUnknownOutcome("Transbank's result has no buy order")
    details = answer.get("detailOutput") or []
    if not isinstance(details, list) or not details:
        raise WebpayUnknownOutcome("Transbank's result has no detail")
    card = answer.get("cardDetail") or {}
    return details, _text(card.get("cardNumber"))[-4:]


def _mall_detail(item):
    code = parse_int(item.get("responseCode"))
    if code is None:
        raise WebpayUnknownOutcome("a detail of Transbank's result has no response code")
    return MallDetail(
        commerce_code=_text(item.get("commerceCode")),
        buy_order=_text(item.get("buyOrder")),
        amount=parse_int(item.get("amount")),
        status=_detail_status(code),
        response_code=code,
        authorization_code=_text(item.get("authorizationCode")),
        payment_type_code=_text(item.get("paymentTypeCode")),
        installments_number=parse_int(item.get("sharesNumber")) or 0,
        installments_amount=parse_int(item.get("sharesAmount")),
        balance=None,
    )


# --- the client ------------------------------------------------------------------


class WebpaySoapClient:
    """Webpay Plus Normal and Mall, capture and nullify, for one commerce code.

    `commerce_code` is the sale's (Normal) or the mall's (Mall) code; its key
    and certificate sign every request, `transbank_certificate_pem` verifies
    every answer. `monotonic` is the clock of the acknowledge window (tests).
    `key_checked`: the key was validated already (on upload); only parse it.
    """

    def __init__(
        self,
        base_url,
        commerce_code,
        private_key_pem,
        certificate_pem,
        transbank_certificate_pem,
        timeout=const.TIMEOUT,
        session=None,
        monotonic=time.monotonic,
        sleep=time.sleep,
        key_checked=False,
    ):
        check_certificate(transbank_certificate_pem, "Transbank's certificate")
        self.base_url = base_url
        self.commerce_code = commerce_code_12(commerce_code)
        self.signer = Signer(private_key_pem, certificate_pem, key_checked)
        self.signer.check_pair()
        self.transbank_certificate_pem = transbank_certificate_pem
        self.timeout = timeout
        self.session = session or requests.Session()
        self.monotonic = monotonic
        self.sleep = sleep
        self._services = {}

    def _service(self, wsdl_name):
        if wsdl_name not in self._services:  # zeep parses a WSDL in ~50 ms: once per client
            self._services[wsdl_name] = SoapService(
                wsdl_name,
                self.base_url,
                self.signer,
                self.transbank_certificate_pem,
                timeout=self.timeout,
                session=self.session,
            )
        return self._services[wsdl_name]

    def _webpay(self, operation, **kwargs):
        return self._service(const.WEBPAY_WSDL).call(operation, **kwargs)

    def _commerce(self, operation, **kwargs):
        return self._service(const.COMMERCE_INTEGRATION_WSDL).call(operation, **kwargs)

    # --- initTransaction ---

    @staticmethod
    def _check_urls(session_id, return_url, final_url):
        if len(session_id or "") > const.SESSION_ID_MAX_LENGTH:
            raise ValueError("session_id is longer than Transbank accepts")
        for url in (return_url, final_url):
            if not url or len(url) > const.URL_MAX_LENGTH:
                raise ValueError("return and final URLs are required, at most 256 characters")

    def _init(self, payload):
        answer = self._webpay("initTransaction", wsInitTransactionInput=payload)
        token, url = (answer or {}).get("token"), (answer or {}).get("url")
        if not token or not url:
            raise WebpayUnknownOutcome("Transbank's answer has no token or url")
        return token, url

    def init_transaction(self, buy_order, session_id, amount, return_url, final_url):
        """Open a Webpay Plus Normal transaction; return (token, payment form URL)."""
        self._check_urls(session_id, return_url, final_url)
        return self._init(
            {
                "wSTransactionType": const.TR_NORMAL_WS,
                "sessionId": session_id,
                "returnURL": return_url,
                "finalURL": final_url,
                "transactionDetails": [
                    {
                        "amount": clp_amount(amount),
                        "commerceCode": self.commerce_code,
                        "buyOrder": check_buy_order(buy_order),
                    }
                ],
            }
        )

    def init_mall_transaction(self, buy_order, session_id, return_url, final_url, parts):
        """Open a Mall transaction; `parts` are (store code, store buy order, amount)."""
        self._check_urls(session_id, return_url, final_url)
        if not parts:
            raise ValueError("a mall transaction needs at least one store part")
        return self._init(
            {
                "wSTransactionType": const.TR_MALL_WS,
                "commerceId": self.commerce_code,
                "buyOrder": check_buy_order(buy_order),
                "sessionId": session_id,
                "returnURL": return_url,
                "finalURL": final_url,
                "transactionDetails": [
                    {
                        "amount": clp_amount(amount),
                        "commerceCode": commerce_code_12(store_code),
                        "buyOrder": check_buy_order(store_buy_order),
                    }
                    for store_code, store_buy_order, amount in parts
                ],
            }
        )

    # --- getTransactionResult / acknowledgeTransaction ---

    def get_transaction_result(self, token, buy_order=None, timeout=None):
        """Webpay Plus Normal result (callable once per token): a SoapTransactionResult.

        `buy_order`, when given, must be the one the answer is about.
        """
        answer = self._webpay("getTransactionResult", tokenInput=token, timeout=timeout)
        details, card_last4 = _result_header(answer)
        if len(details) != 1:
            raise WebpayUnknownOutcome("a Normal result must have exactly one detail")
        detail = _mall_detail(details[0])
        if detail.buy_order != answer["buyOrder"] or detail.commerce_code != self.commerce_code:
            raise WebpayUnknownOutcome("Transbank's result is about another sale")
        if buy_order is not None and answer["buyOrder"] != buy_order:
            raise WebpayUnknownOutcome("Transbank's result is about another buy order")
        return SoapTransactionResult(
            status=detail.status,
            response_code=detail.response_code,
            amount=detail.amount,
            buy_order=answer["buyOrder"],
            session_id=_text(answer.get("sessionId")),
            authorization_code=detail.authorization_code,
            card_last4=card_last4,
            payment_type_code=detail.payment_type_code,
            installments_number=detail.installments_number,
            installments_amount=detail.installments_amount,
            transaction_date=_text(answer.get("transactionDate")),
            accounting_date=_text(answer.get("accountingDate")),
            vci=_text(answer.get("VCI")),
            balance=None,
            url_redirection=_text(answer.get("urlRedirection")),
        )

    def get_mall_result(self, token, buy_order=None, timeout=None):
        """Mall result: a SoapMallResult with one MallDetail per store.

        Each store's part is approved or not on its own: the caller checks
        every detail it expects (`MallResult.detail(store, store buy order)`).
        """
        answer = self._webpay("getTransactionResult", tokenInput=token, timeout=timeout)
        details, card_last4 = _result_header(answer)
        if buy_order is not None and answer["buyOrder"] != buy_order:
            raise WebpayUnknownOutcome("Transbank's result is about another buy order")
        parsed = tuple(_mall_detail(item) for item in details)
        keys = {(item.commerce_code, item.buy_order) for item in parsed}
        if len(keys) != len(parsed):
            raise WebpayUnknownOutcome("Transbank's result repeats a store detail")
        return SoapMallResult(
            buy_order=answer["buyOrder"],
            card_last4=card_last4,
            transaction_date=_text(answer.get("transactionDate")),
            accounting_date=_text(answer.get("accountingDate")),
            details=parsed,
            vci=_text(answer.get("VCI")),
            session_id=_text(answer.get("sessionId")),
            url_redirection=_text(answer.get("urlRedirection")),
        )

    def acknowledge(self, token, timeout=None):
        """Tell Transbank the result was received (within 30 s of reading it)."""
        self._webpay("acknowledgeTransaction", tokenInput=token, timeout=timeout)

    def confirm(self, token, mall=False, buy_order=None, accept=None):
        """Read the result, then acknowledge it, as Transbank requires.

        - `accept(result)`, when given, decides before anything is acknowledged:
          False raises `ResultRefused` carrying `.result` (not acknowledged, so
          Transbank reverses it: a result about another amount or store is never
          kept by acknowledging it).
        - getTransactionResult that never reached Transbank (no connection)
          raises `NotSent`: the result is still there to read.

        - getTransactionResult without a trustworthy answer (lost, timed out,
          bad signature, about another sale) raises `ResultNotAcknowledged`:
          we never acknowledge, so Transbank reverses within 30 s and the caller
          may treat the payment as not made.
        - a SOAP Fault on getTransactionResult (272: the shopper aborted) is
          raised as `SoapFault`.
        - an acknowledge whose answer is lost is sent again, only while inside
          the 30-second window counted from *sending* getTransactionResult
          (acknowledging twice moves no money); each attempt's timeout is cut
          to what is left of the window. Still unknown: `AcknowledgeUnknown`
          carrying `.result`.
        - a SOAP Fault on the first acknowledge raises `AcknowledgeRefused`
          carrying `.result`: Transbank will reverse the authorization. A Fault
          on a retry is `AcknowledgeUnknown`: the lost first one may have landed.

        Returns the result (SoapTransactionResult, or SoapMallResult if `mall`).
        """
        started = self.monotonic()
        deadline = started + const.ACKNOWLEDGE_WINDOW_SECONDS
        read = self.get_mall_result if mall else self.get_transaction_result
        try:
            # A shorter wait than other calls: what is left of the window is for acknowledging.
            result = read(token, buy_order=buy_order, timeout=const.RESULT_TIMEOUT)
        except (SoapFault, NotSent):
            raise
        except WebpayUnknownOutcome as error:
            raise ResultNotAcknowledged(
                f"no trustworthy result, not acknowledged: {error}"
            ) from error
        if accept is not None and not accept(result):
            raise ResultRefused(result)

        attempt = 0
        while True:
            left = deadline - self.monotonic() - const.ACKNOWLEDGE_RETRY_MARGIN_SECONDS
            if left <= 0 and attempt == 0:
                raise ResultNotAcknowledged("the result came too late to acknowledge it")
            if left <= 0:
                raise AcknowledgeUnknown(result, "the acknowledge window closed without an answer")
            connect, read_timeout = self.timeout
            try:
                self.acknowledge(token, timeout=(min(connect, left), min(read_timeout, left)))
                return result
            except SoapFault as fault:
                if attempt == 0:
                    raise AcknowledgeRefused(result, fault) from fault
                raise AcknowledgeUnknown(
                    result, f"a retried acknowledge faulted: {fault}"
                ) from fault
            except WebpayUnknownOutcome:
                attempt += 1
                self.sleep(const.ACKNOWLEDGE_RETRY_PAUSE_SECONDS)

    # --- WSCommerceIntegrationService ---

    def _commerce_id(self, commerce_code):
        return int(commerce_code_12(commerce_code or self.commerce_code))

    def capture(self, authorization_code, capture_amount, buy_order, commerce_code=None):
        """Deferred capture (once per authorization); a refusal raises SoapFault."""
        amount = clp_amount(capture_amount)
        answer = self._commerce(
            "capture",
            captureInput={
                "commerceId": self._commerce_id(commerce_code),
                "buyOrder": check_buy_order(buy_order),
                "authorizationCode": authorization_code,
                "capturedAmount": amount,
            },
        )
        if not isinstance(answer, dict) or not answer.get("authorizationCode"):
            raise WebpayUnknownOutcome("Transbank's capture answer has no authorization code")
        if parse_int(answer.get("capturedAmount")) != amount:
            raise WebpayUnknownOutcome("Transbank's capture answer is about another amount")
        return CaptureResult(
            authorization_code=_text(answer.get("authorizationCode")),
            authorization_date=_text(answer.get("authorizationDate")),
            captured_amount=amount,
            response_code=const.APPROVED_RESPONSE_CODE,
        )

    def nullify(
        self, authorization_code, authorized_amount, buy_order, nullify_amount, commerce_code=None
    ):
        """Nullify all or part of a sale (one partial nullification at most, 90 days).

        For a deferred-capture sale use the capture's authorization code and
        captured amount. A refusal raises SoapFault (310, 311, 53...).
        """
        authorized = clp_amount(authorized_amount)
        amount = clp_amount(nullify_amount)
        answer = self._commerce(
            "nullify",
            nullificationInput={
                "commerceId": self._commerce_id(commerce_code),
                "buyOrder": check_buy_order(buy_order),
                "authorizedAmount": authorized,
                "authorizationCode": authorization_code,
                "nullifyAmount": amount,
            },
        )
        if not isinstance(answer, dict) or not answer.get("authorizationCode"):
            raise WebpayUnknownOutcome("Transbank's nullify answer has no authorization code")
        return nullification_result(answer, amount, authorized)
