"""Transbank Webpay's legacy SOAP API on loopback, with its payment form and voucher.

Speaks SOAP 1.1 with WS-Security as Transbank did: every request must be
signed by the certificate registered for its commerce code, with a fresh
Timestamp; every answer (faults included) is signed with the simulator's
"Transbank" key (`transbank_certificate_pem`, also on the control path
`/__simulator__/transbank_certificate`). A request that fails verification
gets a Fault and changes nothing.

It keeps its own copy of Transbank's rules (shared/specs): getTransactionResult
once per token; 272 for an aborted token; acknowledge within 30 seconds or the
authorization is reversed; one capture within 7 days; nullification within 90
days, one partial at most, no partial on installment sales (53). Codes the spec
does not give are the simulator's choice, marked "assumed" below.

Services are declared per path (`soap_services`, `soap_wsdls`), merged across
the class hierarchy so a mixin adds its own (Oneclick does). A handler is a
method name taking a `SoapCall` and returning the `return` content (dict,
or None for an empty answer), or raising `self.fault(code, text)`.
Mixins may define `soap_reset(self)` to (re)initialize their state.

Test switches: `sign_responses`, `tamper_responses`, `sign_with_wrong_key`,
`autopilot` (an outcome from OUTCOMES), `rejected_stores` (mall stores the
issuer declines), `payment_type_code`, `shares_number`, `forced_faults`.
"""

import html
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from pathlib import Path
from zoneinfo import ZoneInfo

from lxml import etree

from . import soap_signing
from .harness import CONTROL_PATH, GatewaySimulator, Response, route
from .test_pki import make_key_and_certificate

try:
    from .webpay_soap_oneclick import OneclickSoapRoutes
except ImportError:  # the Oneclick helper's module may not exist yet: remove at integration

    class OneclickSoapRoutes:
        pass


WEBPAY_PATH = "/WSWebpayTransaction/cxf/WSWebpayService"
COMMERCE_PATH = "/WSWebpayTransaction/cxf/WSCommerceIntegrationService"
SERVICE_NS = "http://service.wswebpay.webpay.transbank.com/"
WSDL_DIR = Path(__file__).resolve().parent.parent / "gateways" / "wsdl"  # read as data only
FORM_PATH = "/webpayserver/initTransaction"
VOUCHER_PATH = "/webpayserver/voucher.cgi"

# Transbank's integration commerce codes for SOAP (not secrets; the simulator
# makes its own keys for them). Mall code → its stores; deferred-capture codes.
CHILE = ZoneInfo("America/Santiago")
FORM_LIFETIME = 10 * 60  # seconds the shopper has on Webpay's form
INTEGRATION_NORMAL = "597020000540"
INTEGRATION_CAPTURE = "597044444404"
INTEGRATION_MALL = "597044444401"
INTEGRATION_MALL_STORES = ("597044444402", "597044444403")
INTEGRATION_CODES = (INTEGRATION_NORMAL, INTEGRATION_CAPTURE, INTEGRATION_MALL)

ACK_WINDOW = 30  # seconds from getTransactionResult to acknowledgeTransaction
CAPTURE_WINDOW = 7 * 86400
NULLIFY_WINDOW = 90 * 86400
INSTALLMENT_TYPES = {"VC", "SI", "S2", "NC"}  # 53 on a partial nullification
FULL_ONLY_TYPES = {"VD", "VP"}  # debit and prepaid: nullified in full only

# Fault codes: from the spec, or assumed where it names none.
ABORTED = 272
NOT_FOUND = 274
MISSING_INPUT = 304
UNKNOWN_COMMERCE = 245
INACTIVE = 22
WRONG_CERTIFICATE = 316
NOT_ALLOWED = 308  # assumed for: a second getTransactionResult, a result before payment
NOT_DEFERRED = 16
NOT_AUTHORIZED = 292
PERIOD_EXCEEDED = 284
ALREADY_REVERSED = 310  # also assumed for: an acknowledge after the 30-second window
ALREADY_CAPTURED = 309
AMOUNT_EXCEEDS = 311
NULLIFY_ERROR = 312  # assumed for: a second partial nullification
NO_PARTIAL_INSTALLMENTS = 53
SECURITY_FAULT = "wsse:InvalidSecurity"

OUTCOMES = ("approve", "reject", "abort", "timeout", "form_error")
_BUY_ORDER = re.compile(r"^[A-Za-z0-9|_=&%.,~:/?\[+!@()>-]{1,26}$")
TEST_CARD_LAST4 = "6623"


class SoapFaultError(Exception):
    def __init__(self, code, text, faultcode="soap:Server"):
        super().__init__(text)
        self.code, self.text, self.faultcode = code, text, faultcode


@dataclass
class SoapCall:
    """A verified request: the operation element read from the *signed* Body."""

    operation: str
    element: etree._Element
    signer_codes: frozenset  # commerce codes registered with the signing certificate
    request: object

    def text(self, path, default=""):
        value = self.element.findtext(path)
        return default if value is None else value.strip()


class WebpaySoapSimulator(OneclickSoapRoutes, GatewaySimulator):
    name = "webpay_soap"
    form_path = FORM_PATH

    soap_services = {
        WEBPAY_PATH: {
            "initTransaction": "_init_transaction",
            "getTransactionResult": "_get_transaction_result",
            "acknowledgeTransaction": "_acknowledge_transaction",
        },
        COMMERCE_PATH: {"capture": "_capture", "nullify": "_nullify"},
    }
    soap_wsdls = {
        WEBPAY_PATH: "WSWebpayService.wsdl",
        COMMERCE_PATH: "WSCommerceIntegrationService.wsdl",
    }

    def __init__(self, transbank_key_pem=None, transbank_certificate_pem=None, **kwargs):
        super().__init__(**kwargs)
        if not (transbank_key_pem and transbank_certificate_pem):
            transbank_key_pem, transbank_certificate_pem = make_key_and_certificate(
                "Transbank Webpay (simulator)"
            )
        self.transbank_key_pem = transbank_key_pem
        self.transbank_certificate_pem = transbank_certificate_pem
        self._wrong_key_pem, self._wrong_certificate_pem = make_key_and_certificate(
            "Transbank Webpay (impostor)"
        )
        # certificate id → {"pem": ..., "codes": set of commerce codes}
        self.merchants = {}
        self.mall_stores = {INTEGRATION_MALL: set(INTEGRATION_MALL_STORES)}
        self.deferred_codes = {INTEGRATION_CAPTURE}
        self.inactive_codes = set()
        # The integration codes, signed by one generated key the demo can read.
        self.integration_key_pem, self.integration_certificate_pem = make_key_and_certificate(
            "597020000540 integration (simulator)"
        )
        for code in INTEGRATION_CODES:
            self.register_merchant(code, self.integration_certificate_pem)
        self.reset()

    # --- setup ---

    def reset(self):
        """Forget transactions and switches (tests call it between cases)."""
        with self.state_lock:
            self.transactions = {}  # token → transaction
            self.sales = {}  # (commerce code, buy order) → a sale (a Normal sale or a store part)
            self.autopilot = None
            self.rejected_stores = set()
            self.payment_type_code = "VN"
            self.shares_number = 0
            self.sign_responses = True
            self.tamper_responses = False
            self.sign_with_wrong_key = False
            self.forced_faults = {}  # operation → fault code, answered once
            self._authorizations = 0
        for cls in type(self).__mro__:
            if "soap_reset" in cls.__dict__:
                cls.__dict__["soap_reset"](self)

    def register_merchant(self, commerce_code, certificate_pem, stores=(), deferred=False):
        """Accept requests for `commerce_code` signed by `certificate_pem`."""
        cert_id = soap_signing.CertificateId.of_pem(certificate_pem)
        with self.state_lock:
            entry = self.merchants.setdefault(cert_id, {"pem": certificate_pem, "codes": set()})
            entry["pem"] = certificate_pem
            entry["codes"].add(commerce_code)
            if stores:
                self.mall_stores[commerce_code] = set(stores)
            if deferred:
                self.deferred_codes.add(commerce_code)

    def fault(self, code, text):
        """The exception a handler raises to answer a SOAP Fault with Transbank's code."""
        return SoapFaultError(code, text)

    @classmethod
    def _merged(cls, attribute):
        merged = {}
        for klass in reversed(cls.__mro__):
            for path, value in klass.__dict__.get(attribute, {}).items():
                if isinstance(value, dict):
                    merged.setdefault(path, {}).update(value)
                else:
                    merged[path] = value
        return merged

    # --- HTTP dispatch (SOAP services are routed by path, not by @route) ---

    def handle(self, request):
        services = self._merged("soap_services")
        if request.path in services:
            if request.method == "GET":
                return self._wsdl(request.path)
            if request.method == "POST":
                return self._soap(request, services[request.path])
        return super().handle(request)

    def _control(self, request):
        if request.method == "GET" and request.path == f"{CONTROL_PATH}/transbank_certificate":
            return Response.text(self.transbank_certificate_pem.decode("ascii"))
        if request.method == "POST" and request.path == f"{CONTROL_PATH}/merchants":
            # A demo in another process registers its own certificate for a commerce code.
            options = request.json()
            try:
                self.register_merchant(
                    str(options["commerce_code"]),
                    options["certificate_pem"].encode("ascii"),
                    stores=options.get("stores", ()),
                    deferred=bool(options.get("deferred")),
                )
            except (KeyError, TypeError, ValueError, AttributeError) as error:
                return Response.json({"error": str(error)}, status=400)
            return Response.json({"ok": True})
        return super()._control(request)

    def _wsdl(self, path):
        name = self._merged("soap_wsdls").get(path)
        if not name:
            return Response.text("no WSDL", 404)
        text = (WSDL_DIR / name).read_text(encoding="utf-8")
        text = re.sub(r'(<soap:address\s+location=")[^"]*(")', rf"\g<1>{self.url}{path}\g<2>", text)
        return Response.text(text, content_type="text/xml; charset=utf-8")

    def _soap(self, request, operations):
        try:
            envelope = soap_signing.parse(request.body)
            signer = self._merchant_of(envelope)
            body = soap_signing.verify(envelope, signer["pem"], self.clock.now())
        except (soap_signing.SecurityError, SoapFaultError) as error:
            # WSS4J's answer to a message it cannot trust; no state was touched.
            return self._fault_response(SoapFaultError(None, str(error), SECURITY_FAULT))
        children = [child for child in body if isinstance(child.tag, str)]
        if len(children) != 1 or not children[0].tag.startswith("{"):
            return self._fault_response(SoapFaultError(MISSING_INPUT, "one operation expected"))
        operation = etree.QName(children[0]).localname
        handler = operations.get(operation)
        if handler is None:
            return self._fault_response(SoapFaultError(None, f"unknown operation {operation}"))
        call = SoapCall(operation, children[0], frozenset(signer["codes"]), request)
        try:
            with self.state_lock:
                forced = self.forced_faults.pop(operation, None)
                if forced is not None:
                    raise SoapFaultError(forced, "forced by the test")
                method = handler.__get__(self) if callable(handler) else getattr(self, handler)
                result = method(call)
        except SoapFaultError as error:
            return self._fault_response(error)
        return self._answer(operation, result)

    def _merchant_of(self, envelope):
        cert_id = soap_signing.signer_id(envelope)
        with self.state_lock:
            merchant = self.merchants.get(cert_id)
        if merchant is None:
            raise soap_signing.SecurityError("the signing certificate is not registered")
        return merchant

    # --- SOAP answers ---

    def _envelope(self):
        envelope = etree.Element(
            f"{{{soap_signing.SOAP}}}Envelope", nsmap={"soap": soap_signing.SOAP}
        )
        etree.SubElement(envelope, f"{{{soap_signing.SOAP}}}Header")
        return envelope, etree.SubElement(envelope, f"{{{soap_signing.SOAP}}}Body")

    def _answer(self, operation, result):
        envelope, body = self._envelope()
        wrapper = etree.SubElement(
            body, f"{{{SERVICE_NS}}}{operation}Response", nsmap={"ns2": SERVICE_NS}
        )
        if result is not None:
            _to_xml(wrapper, "return", result)
        return self._send(envelope, 200)

    def _fault_response(self, error):
        envelope, body = self._envelope()
        fault = etree.SubElement(body, f"{{{soap_signing.SOAP}}}Fault")
        etree.SubElement(fault, "faultcode").text = error.faultcode
        text = error.text if error.code is None else f"<!-- {error.text}({error.code}) -->"
        etree.SubElement(fault, "faultstring").text = text
        return self._send(envelope, 500)

    def _send(self, envelope, status):
        if self.sign_responses:
            key, certificate = (
                (self._wrong_key_pem, self._wrong_certificate_pem)
                if self.sign_with_wrong_key
                else (self.transbank_key_pem, self.transbank_certificate_pem)
            )
            soap_signing.sign(envelope, key, certificate, self.clock.now())
        if self.tamper_responses:
            _tamper(envelope.find(f"{{{soap_signing.SOAP}}}Body"))
        return Response(
            status,
            etree.tostring(envelope, xml_declaration=True, encoding="UTF-8"),
            {"Content-Type": "text/xml; charset=UTF-8"},
        )

    # --- helpers for handlers ---

    def _now_text(self, pattern):
        return datetime.fromtimestamp(self.clock.now(), timezone.utc).strftime(pattern)

    def _chile_text(self, pattern):
        # transactionDate and accountingDate are Chile's local time, without a zone.
        return datetime.fromtimestamp(self.clock.now(), CHILE).strftime(pattern)

    def _next_authorization_code(self):  # under state_lock
        self._authorizations += 1
        return f"{1415 + self._authorizations:06d}"

    def _check_commerce(self, call, code):
        """The checks every commerce-code-bearing call gets (245, 22, 316)."""
        known = {c for entry in self.merchants.values() for c in entry["codes"]}
        known |= {store for stores in self.mall_stores.values() for store in stores}
        if code not in known:
            raise SoapFaultError(UNKNOWN_COMMERCE, "Commerce does not exist")
        if code in self.inactive_codes:
            raise SoapFaultError(INACTIVE, "Commerce is not active")
        stores = {s for mall in call.signer_codes for s in self.mall_stores.get(mall, ())}
        if code not in call.signer_codes and code not in stores:
            raise SoapFaultError(WRONG_CERTIFICATE, "Commerce does not match the certificate")

    def _expire(self, tx):
        """Transbank reverses what was read but not acknowledged within 30 seconds."""
        read_at = tx.get("result_read_at")
        if read_at is None or tx["acknowledged"] or tx.get("reversed_unacknowledged"):
            return
        if self.clock.now() - read_at > ACK_WINDOW:
            tx["reversed_unacknowledged"] = True
            for sale in tx["details"]:
                if sale["status"] == "AUTHORIZED":
                    sale["status"] = "REVERSED"
                    sale["balance"] = 0

    # --- WSWebpayService ---

    def _init_transaction(self, call):
        data = call.element.find("wsInitTransactionInput")
        if data is None:
            raise SoapFaultError(MISSING_INPUT, "wsInitTransactionInput is required")
        kind = (data.findtext("wSTransactionType") or "").strip()
        return_url = (data.findtext("returnURL") or "").strip()
        final_url = (data.findtext("finalURL") or "").strip()
        session_id = (data.findtext("sessionId") or "").strip()
        details = data.findall("transactionDetails")
        if kind not in ("TR_NORMAL_WS", "TR_MALL_WS") or not return_url or not final_url:
            raise SoapFaultError(MISSING_INPUT, "Invalid input parameters")
        if len(return_url) > 256 or len(final_url) > 256 or len(session_id) > 61:
            raise SoapFaultError(MISSING_INPUT, "A field is longer than allowed")
        parts = []
        for detail in details:
            amount = _amount(detail.findtext("amount"))
            code = (detail.findtext("commerceCode") or "").strip()
            buy_order = (detail.findtext("buyOrder") or "").strip()
            if amount is None or not _BUY_ORDER.match(buy_order) or not code:
                raise SoapFaultError(MISSING_INPUT, "Invalid transaction detail")
            parts.append((code, buy_order, amount))
        if kind == "TR_NORMAL_WS":
            if len(parts) != 1:
                raise SoapFaultError(MISSING_INPUT, "A normal transaction has one detail")
            owner, buy_order = parts[0][0], parts[0][1]
            self._check_commerce(call, owner)
        else:
            owner = (data.findtext("commerceId") or "").strip()
            buy_order = (data.findtext("buyOrder") or "").strip()
            if not parts or not _BUY_ORDER.match(buy_order):
                raise SoapFaultError(MISSING_INPUT, "Invalid mall input")
            self._check_commerce(call, owner)
            for code in (part[0] for part in parts):
                if code not in self.mall_stores.get(owner, ()):
                    raise SoapFaultError(WRONG_CERTIFICATE, f"{code} is not a store of {owner}")
        if any(key in self.sales for key in ((code, order) for code, order, _a in parts)):
            raise SoapFaultError(NOT_ALLOWED, "Buy order already used")
        token = secrets.token_hex(32)  # 64 characters, as Transbank's
        self.transactions[token] = {
            "token": token,
            "kind": kind,
            "owner": owner,
            "buy_order": buy_order,
            "session_id": session_id,
            "return_url": return_url,
            "final_url": final_url,
            "decision": None,
            "created_at": self.clock.now(),
            "result_read_at": None,
            "acknowledged": False,
            "details": [
                {
                    "token": token,
                    "commerce_code": code,
                    "buy_order": order,
                    "amount": amount,
                    "status": "INITIALIZED",
                    "response_code": None,
                    "authorization_code": "",
                    "balance": None,
                    "partial_nullifications": 0,
                }
                for code, order, amount in parts
            ],
        }
        return {"token": token, "url": f"{self.url}{FORM_PATH}"}

    def _known_token(self, call):
        token = call.text("tokenInput")
        if not token:
            raise SoapFaultError(MISSING_INPUT, "tokenInput is required")
        tx = self.transactions.get(token)
        if tx is None:
            raise SoapFaultError(NOT_FOUND, "Transaction Not Found")
        if tx["owner"] not in call.signer_codes:
            raise SoapFaultError(WRONG_CERTIFICATE, "Commerce does not match the certificate")
        return tx

    def _get_transaction_result(self, call):
        tx = self._known_token(call)
        if tx["decision"] is None and self.clock.now() - tx["created_at"] > FORM_LIFETIME:
            tx["decision"] = "timeout"  # Webpay closed the form after its 10 minutes
        if tx["decision"] in ("abort", "timeout", "form_error"):
            raise SoapFaultError(ABORTED, "Timeout")
        if tx["decision"] is None:
            raise SoapFaultError(NOT_ALLOWED, "Transaction not yet processed")
        if tx["result_read_at"] is not None:
            raise SoapFaultError(NOT_ALLOWED, "Transaction result already retrieved")
        tx["result_read_at"] = self.clock.now()
        tx["transaction_date"] = self._chile_text("%m%d%H%M")
        tx["accounting_date"] = self._chile_text("%m%d")
        outputs = []
        for sale in tx["details"]:
            approved = (
                tx["decision"] == "approve" and sale["commerce_code"] not in self.rejected_stores
            )
            sale["authorized_at"] = self.clock.now()
            sale["payment_type_code"] = self.payment_type_code
            if approved:
                sale.update(
                    status="AUTHORIZED",
                    response_code=0,
                    authorization_code=self._next_authorization_code(),
                    balance=sale["amount"],
                )
            else:
                sale.update(status="FAILED", response_code=-1, authorization_code="000000")
            self.sales[(sale["commerce_code"], sale["buy_order"])] = sale
            outputs.append(
                {
                    "sharesNumber": self.shares_number,
                    "amount": sale["amount"],
                    "commerceCode": sale["commerce_code"],
                    "buyOrder": sale["buy_order"],
                    "authorizationCode": sale["authorization_code"],
                    "paymentTypeCode": sale["payment_type_code"],
                    "responseCode": sale["response_code"],
                }
            )
        return {
            "accountingDate": tx["accounting_date"],
            "buyOrder": tx["buy_order"],
            "cardDetail": {"cardNumber": TEST_CARD_LAST4},
            "detailOutput": outputs,
            "sessionId": tx["session_id"],
            "transactionDate": tx["transaction_date"],
            "urlRedirection": f"{self.url}{VOUCHER_PATH}",
            "VCI": "TSY" if tx["decision"] == "approve" else "TSN",
        }

    def _acknowledge_transaction(self, call):
        tx = self._known_token(call)
        if tx["result_read_at"] is None:
            raise SoapFaultError(NOT_ALLOWED, "Result not yet retrieved")
        self._expire(tx)
        if tx.get("reversed_unacknowledged"):
            raise SoapFaultError(ALREADY_REVERSED, "Acknowledge too late: transaction reversed")
        tx["acknowledged"] = True  # again is harmless: acknowledging moves no money
        return None

    # --- WSCommerceIntegrationService ---

    def _sale_for(self, call, input_name, amount_fields):
        data = call.element.find(input_name)
        if data is None:
            raise SoapFaultError(MISSING_INPUT, f"{input_name} is required")
        fields = {
            name: (data.findtext(name) or "").strip()
            for name in ("commerceId", "buyOrder", "authorizationCode", *amount_fields)
        }
        if not all(fields.values()):
            raise SoapFaultError(MISSING_INPUT, "Null input fields")
        amounts = {name: _amount(fields[name]) for name in amount_fields}
        if None in amounts.values():
            raise SoapFaultError(MISSING_INPUT, "Invalid amount")
        code = fields["commerceId"]
        self._check_commerce(call, code)
        sale = self.sales.get((code, fields["buyOrder"]))
        if sale is None or fields["authorizationCode"] not in (
            sale["authorization_code"],
            sale.get("capture_authorization_code"),
        ):
            raise SoapFaultError(NOT_FOUND, "Transaction Not Found")
        self._expire(self.transactions[sale["token"]])
        return sale, amounts

    def _capture(self, call):
        sale, amounts = self._sale_for(call, "captureInput", ("capturedAmount",))
        amount = amounts["capturedAmount"]
        if sale["commerce_code"] not in self.deferred_codes:
            raise SoapFaultError(NOT_DEFERRED, "Transaction is not deferred capture")
        if sale["status"] in ("REVERSED", "NULLIFIED", "PARTIALLY_NULLIFIED"):
            raise SoapFaultError(ALREADY_REVERSED, "Transaction previously reversed")
        if sale["status"] == "CAPTURED":
            raise SoapFaultError(ALREADY_CAPTURED, "Transaction previously captured")
        if sale["status"] != "AUTHORIZED":
            raise SoapFaultError(NOT_AUTHORIZED, "Transaction is not authorized")
        if self.clock.now() - sale["authorized_at"] > CAPTURE_WINDOW:
            raise SoapFaultError(PERIOD_EXCEEDED, "Capture period exceeded")
        if amount > sale["amount"]:
            raise SoapFaultError(AMOUNT_EXCEEDS, "Amount exceeds the authorized amount")
        sale.update(
            status="CAPTURED",
            captured_amount=amount,
            balance=amount,
            capture_authorization_code=self._next_authorization_code(),
        )
        return {
            "authorizationCode": sale["capture_authorization_code"],
            "authorizationDate": self._now_text("%Y-%m-%dT%H:%M:%S.000Z"),
            "capturedAmount": amount,
            "token": sale["token"],
        }

    def _nullify(self, call):
        sale, amounts = self._sale_for(
            call, "nullificationInput", ("authorizedAmount", "nullifyAmount")
        )
        amount = amounts["nullifyAmount"]
        deferred = sale["commerce_code"] in self.deferred_codes
        if sale["status"] in ("REVERSED", "NULLIFIED"):
            raise SoapFaultError(ALREADY_REVERSED, "Transaction previously nullified")
        if deferred and sale["status"] == "AUTHORIZED":
            raise SoapFaultError(NOT_DEFERRED, "Capture the transaction before nullifying it")
        if sale["status"] not in ("AUTHORIZED", "CAPTURED", "PARTIALLY_NULLIFIED"):
            raise SoapFaultError(NOT_AUTHORIZED, "Transaction is not authorized")
        if self.clock.now() - sale["authorized_at"] > NULLIFY_WINDOW:
            raise SoapFaultError(PERIOD_EXCEEDED, "Nullification period exceeded")
        authorized = sale.get("captured_amount", sale["amount"])
        if amounts["authorizedAmount"] != authorized:
            raise SoapFaultError(NULLIFY_ERROR, "authorizedAmount does not match the sale")
        if amount > sale["balance"]:
            raise SoapFaultError(AMOUNT_EXCEEDS, "Amount exceeds the balance")
        if amount < sale["balance"]:  # a partial nullification
            if sale["payment_type_code"] in INSTALLMENT_TYPES:
                raise SoapFaultError(
                    NO_PARTIAL_INSTALLMENTS, "No partial nullification of installments"
                )
            if sale["payment_type_code"] in FULL_ONLY_TYPES:
                raise SoapFaultError(NOT_DEFERRED, "Debit and prepaid are nullified in full")
            if sale["partial_nullifications"]:
                raise SoapFaultError(NULLIFY_ERROR, "Only one partial nullification is allowed")
            sale["partial_nullifications"] += 1
        sale["balance"] -= amount
        sale["status"] = "NULLIFIED" if sale["balance"] == 0 else "PARTIALLY_NULLIFIED"
        return {
            "authorizationCode": self._next_authorization_code(),
            "authorizationDate": self._now_text("%Y-%m-%dT%H:%M:%S.000Z"),
            "balance": sale["balance"],
            "nullifiedAmount": amount,
            "token": sale["token"],
        }

    # --- the browser: payment form and voucher ---

    @route("POST", FORM_PATH)
    def payment_form(self, request):
        token = request.form().get("token_ws", "")
        with self.state_lock:
            tx = self.transactions.get(token)
        if tx is None:
            return Response.text("<h1>Transacción no encontrada</h1>", 404, "text/html")
        if self.autopilot:
            return self._decide(token, self.autopilot)
        total = sum(sale["amount"] for sale in tx["details"])
        buttons = "".join(
            f'<button name="outcome" value="{outcome}" id="webpay-{outcome}">{label}</button> '
            for outcome, label in (
                ("approve", "Pagar (aprobar)"),
                ("reject", "Pagar (rechazar)"),
                ("abort", "Anular compra"),
                ("timeout", "Dejar expirar"),
                ("form_error", "Error en el formulario"),
            )
        )
        page = f"""<!DOCTYPE html><html lang="es"><head><meta charset="utf-8">
<title>Webpay SOAP (simulador)</title></head><body style="font-family:sans-serif">
<h1>Webpay Plus (SOAP) &mdash; simulador local</h1>
<p>Orden de compra <b>{html.escape(tx["buy_order"])}</b> por
<b>$ {f"{total:,}".replace(",", ".")}</b></p>
<form method="post" action="{FORM_PATH}/decide">
<input type="hidden" name="token_ws" value="{html.escape(token)}">{buttons}</form>
</body></html>"""
        return Response.text(page, content_type="text/html; charset=utf-8")

    @route("POST", FORM_PATH + r"/decide")
    def decide(self, request):
        form = request.form()
        return self._decide(form.get("token_ws", ""), form.get("outcome", ""))

    def _decide(self, token, outcome):
        if outcome not in OUTCOMES:
            return Response.text("<h1>Opción desconocida</h1>", 400, "text/html")
        with self.state_lock:
            tx = self.transactions.get(token)
            if tx is None:
                return Response.text("<h1>Transacción no encontrada</h1>", 404, "text/html")
            if tx["decision"] is not None:
                return Response.text("<h1>Transacción ya procesada</h1>", 409, "text/html")
            tx["decision"] = outcome
        # Where the browser goes, per the spec (SOAP API: always by POST).
        if outcome in ("approve", "reject"):
            target, fields = tx["return_url"], {"token_ws": token}
        elif outcome == "abort":
            target = tx["final_url"]
            fields = {
                "TBK_TOKEN": token,
                "TBK_ORDEN_COMPRA": tx["buy_order"],
                "TBK_ID_SESION": tx["session_id"],
            }
        elif outcome == "timeout":
            target = tx["final_url"]
            fields = {"TBK_ORDEN_COMPRA": tx["buy_order"], "TBK_ID_SESION": tx["session_id"]}
        else:
            target, fields = tx["final_url"], {"TBK_TOKEN": token, "token_ws": token}
        return _autosubmit(target, fields, "Volviendo al comercio")

    @route("POST", VOUCHER_PATH)
    def voucher(self, request):
        """Step 14-17: the merchant sends the browser here; Webpay shows it and goes to finalURL."""
        token = request.form().get("token_ws", "")
        with self.state_lock:
            tx = self.transactions.get(token)
            if tx is None or tx["result_read_at"] is None:
                return Response.text("<h1>Transacción no encontrada</h1>", 404, "text/html")
            tx["voucher_shown"] = True
        return _autosubmit(tx["final_url"], {"token_ws": token}, "Comprobante de pago")

    # --- for tests ---

    def transaction(self, token):
        """The transaction as Transbank sees it now (unacknowledged reversals applied)."""
        with self.state_lock:
            tx = self.transactions.get(token)
            if tx is not None:
                self._expire(tx)
            return tx

    def sale(self, commerce_code, buy_order):
        with self.state_lock:
            return self.sales.get((commerce_code, buy_order))

    def age(self, token, seconds):
        """Make a transaction (its form, its authorizations) `seconds` older: the form's
        10 minutes, the capture and nullify windows.

        The clock cannot jump days for that: the client's Timestamp would go stale.
        """
        with self.state_lock:
            self.transactions[token]["created_at"] -= seconds
            for sale in self.transactions[token]["details"]:
                if sale.get("authorized_at") is not None:
                    sale["authorized_at"] -= seconds


def _amount(text):
    """A positive whole number of pesos, or None."""
    try:
        value = Decimal((text or "").strip())
    except InvalidOperation:
        return None
    if value <= 0 or value != value.to_integral_value():
        return None
    return int(value)


def _to_xml(parent, name, value):
    if isinstance(value, list):
        for item in value:
            _to_xml(parent, name, item)
        return
    node = etree.SubElement(parent, name)  # unqualified children, as CXF writes them
    if isinstance(value, dict):
        for key, item in value.items():
            if item is not None:
                _to_xml(node, key, item)
    else:
        node.text = str(value)


def _tamper(body):
    """Change one answered value after signing (a man in the middle)."""
    for node in body.iter():
        if isinstance(node.tag, str) and node.text and node.text.strip() and len(node) == 0:
            node.text = node.text[:-1] + ("1" if node.text[-1] != "1" else "2")
            return


def _autosubmit(target, fields, message):
    inputs = "".join(
        f'<input type="hidden" name="{name}" value="{html.escape(value)}">'
        for name, value in fields.items()
    )
    return Response.text(
        f"""<!DOCTYPE html><html><head><meta charset="utf-8"></head>
<body onload="document.forms[0].submit()"><p>{message}&hellip;</p>
<form method="post" action="{html.escape(target)}">{inputs}</form></body></html>""",
        content_type="text/html; charset=utf-8",
    )
