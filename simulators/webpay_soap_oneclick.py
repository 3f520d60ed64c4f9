"""Transbank's legacy SOAP Oneclick (Normal and Mall) for the Webpay SOAP simulator.

A mixin of `WebpaySoapSimulator`, which verifies every request's WS-Security
signature, signs every answer, dispatches by `soap_services` and offers its
switches (`sign_responses`, `tamper_responses`, `sign_with_wrong_key`,
`forced_faults`, `rejected_stores`) and the harness's faults. It keeps its own
copy of Transbank's Oneclick rules (shared/specs, "Oneclick Normal" and
"Oneclick Mall"); codes the spec does not give are marked "assumed".

Who the merchant is: Oneclick Normal requests carry no commerce code, so
Transbank knows the merchant by the signing certificate; inscriptions and
payments belong to it. Oneclick Mall's merchant is the mall among the
certificate's commerce codes.

This module must not import `webpay_soap` (which imports it): it reaches the
base only through `self`.
"""

import html
import secrets
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation

from .harness import Response, route

NORMAL_PATH = "/webpayserver/wswebpay/OneClickPaymentService"
MALL_PATH = "/WSWebpayTransaction/cxf/WSOneClickMulticodeService"
NORMAL_FORM_PATH = "/webpayserver/bp_inscription.cgi"
MALL_FORM_PATH = "/webpayserver/bp_multicode_inscription.cgi"

INSCRIPTION_OUTCOMES = ("accept", "abort")
MALL_REVERSE_WINDOW = 30  # seconds after authorize during which reverse() works
CAPTURE_WINDOW = 7 * 86400
NULLIFY_WINDOW = 90 * 86400
# Chile's accounting day, at a fixed UTC-4 (daylight saving ignored: a simulator).
ACCOUNTING_TZ = timezone(timedelta(hours=-4))
DEFAULT_AMOUNT_LIMIT = 1_000_000  # pesos per payment; above it -98 (the amount is assumed)

# Response codes (spec) and fault codes (spec's capture/nullify table, or assumed).
APPROVED = 0
REJECTED = -1
NO_INSCRIPTION = -96
AMOUNT_LIMIT = -98
CANCELLED_INSCRIPTION = -1  # assumed: finishInscription after the shopper pressed "Anular"
NOT_FOUND = 274  # assumed for tokens and mall operations too
MISSING_INPUT = 304
WRONG_CERTIFICATE = 316
NOT_ALLOWED = 308  # assumed for: reused buy order, unknown inscription, finishing twice
NOT_DEFERRED = 16
NOT_AUTHORIZED = 292
PERIOD_EXCEEDED = 284
ALREADY_REVERSED = 310
ALREADY_CAPTURED = 309
AMOUNT_EXCEEDS = 311
NULLIFY_ERROR = 312
NO_PARTIAL_INSTALLMENTS = 53

TEST_CARD_LAST4 = "6623"
TEST_CARD_EXPIRATION = "2030-12"


def _bool(value):
    return "true" if value else "false"  # xs:boolean: Python's "True" is not one


def _amount(text):
    """A positive whole number of pesos, or None."""
    try:
        value = Decimal((text or "").strip())
    except InvalidOperation:
        return None
    if value <= 0 or value != value.to_integral_value():
        return None
    return int(value)


def _long(text):
    text = (text or "").strip()
    return int(text) if text.isdigit() and 0 < int(text) < 2**63 else None


def _return_page(target, token):
    return Response.text(
        f"""<!DOCTYPE html><html><head><meta charset="utf-8"></head>
<body onload="document.forms[0].submit()"><p>Volviendo al comercio&hellip;</p>
<form method="post" action="{html.escape(target)}">
<input type="hidden" name="TBK_TOKEN" value="{html.escape(token)}"></form></body></html>""",
        content_type="text/html; charset=utf-8",
    )


class OneclickSoapRoutes:
    """Oneclick Normal and Mall over SOAP; expects WebpaySoapSimulator's attributes."""

    soap_services = {
        NORMAL_PATH: {
            "initInscription": "_oc_normal_init_inscription",
            "finishInscription": "_oc_normal_finish_inscription",
            "authorize": "_oc_normal_authorize",
            "codeReverseOneClick": "_oc_normal_reverse",
            "removeUser": "_oc_normal_remove_user",
        },
        MALL_PATH: {
            "initInscription": "_oc_mall_init_inscription",
            "finishInscription": "_oc_mall_finish_inscription",
            "authorize": "_oc_mall_authorize",
            "reverse": "_oc_mall_reverse",
            "nullify": "_oc_mall_nullify",
            "reverseNullification": "_oc_mall_reverse_nullification",
            "removeInscription": "_oc_mall_remove_inscription",
            "capture": "_oc_mall_capture",
        },
    }
    soap_wsdls = {
        NORMAL_PATH: "oneclick_payment_service.wsdl",
        MALL_PATH: "oneclick_multicode_service.wsdl",
    }

    def soap_reset(self):
        """No inscriptions, no payments, default switches (called by reset())."""
        self.oneclick_inscriptions = {}  # token → inscription (both services)
        self.oneclick_normal_payments = {}  # (owner, buy order) → payment
        self.oneclick_mall_operations = {}  # (mall, buy order) → operation
        self.oneclick_autopilot = None  # "accept", "abort", or None for the buttons
        self.oneclick_decline = False  # the issuer declines every Normal payment
        self.oneclick_amount_limit = DEFAULT_AMOUNT_LIMIT
        self._oneclick_sequence = 0

    # --- helpers (all called under state_lock) ---

    def _oc_next(self):
        self._oneclick_sequence += 1
        return self._oneclick_sequence

    def _oc_input(self, call, *names):
        data = call.element.find("arg0")
        if data is None:
            raise self.fault(MISSING_INPUT, "arg0 is required")
        return {name: (data.findtext(name) or "").strip() for name in names}, data

    @staticmethod
    def _oc_normal_owner(call):
        # Normal requests name no commerce code: the certificate's codes are the merchant.
        return tuple(sorted(call.signer_codes))

    def _oc_mall_of(self, call):
        malls = sorted(code for code in call.signer_codes if code in self.mall_stores)
        if not malls:
            raise self.fault(WRONG_CERTIFICATE, "The certificate is not a mall's")
        return malls[0]

    def _oc_user(self, service, owner, tbk_user, username):
        for inscription in self.oneclick_inscriptions.values():
            if (
                inscription["service"] == service
                and inscription["owner"] == owner
                and inscription["tbk_user"]
                and inscription["tbk_user"] == tbk_user
                and inscription["username"] == username
                and not inscription["removed"]
            ):
                return inscription
        return None

    def _oc_start(self, service, owner, username, email, return_url, form_path):
        if not username or not email or not return_url:
            raise self.fault(MISSING_INPUT, "Null input fields")
        if max(len(username), len(email), len(return_url)) > 256:
            raise self.fault(MISSING_INPUT, "A field is longer than 256 characters")
        token = secrets.token_hex(32)
        self.oneclick_inscriptions[token] = {
            "service": service,
            "owner": owner,
            "username": username,
            "email": email,
            "return_url": return_url,
            "form_path": form_path,
            "decision": None,
            "finished": False,
            "tbk_user": "",
            "removed": False,
        }
        return token, f"{self.url}{form_path}"

    def _oc_finish(self, call, service, owner):
        fields, _data = self._oc_input(call, "token")
        if not fields["token"]:
            raise self.fault(MISSING_INPUT, "token is required")
        inscription = self.oneclick_inscriptions.get(fields["token"])
        if inscription is None or inscription["service"] != service:
            raise self.fault(NOT_FOUND, "Inscription not found")
        if inscription["owner"] != owner:
            raise self.fault(WRONG_CERTIFICATE, "Commerce does not match the certificate")
        if inscription["decision"] is None or inscription["finished"]:
            raise self.fault(NOT_ALLOWED, "Inscription not finished on the form, or already read")
        inscription["finished"] = True
        if inscription["decision"] == "abort":
            return inscription, False
        inscription["tbk_user"] = secrets.token_hex(16)
        inscription["authorization_code"] = self._next_authorization_code()
        return inscription, True

    def _oc_remove(self, call, service, owner):
        fields, _data = self._oc_input(call, "tbkUser", "username")
        inscription = self._oc_user(service, owner, fields["tbkUser"], fields["username"])
        if inscription is None:
            return _bool(False)
        inscription["removed"] = True
        return _bool(True)

    # --- Oneclick Normal ---

    def _oc_normal_init_inscription(self, call):
        fields, _data = self._oc_input(call, "username", "email", "responseURL")
        token, url = self._oc_start(
            "normal",
            self._oc_normal_owner(call),
            fields["username"],
            fields["email"],
            fields["responseURL"],
            NORMAL_FORM_PATH,
        )
        return {"token": token, "urlWebpay": url}

    def _oc_normal_finish_inscription(self, call):
        inscription, accepted = self._oc_finish(call, "normal", self._oc_normal_owner(call))
        if not accepted:
            return {"responseCode": CANCELLED_INSCRIPTION}
        return {
            "authCode": inscription["authorization_code"],
            "creditCardType": "Visa",
            "last4CardDigits": TEST_CARD_LAST4,
            "responseCode": APPROVED,
            "tbkUser": inscription["tbk_user"],
        }

    def _oc_normal_authorize(self, call):
        fields, _data = self._oc_input(call, "amount", "buyOrder", "tbkUser", "username")
        owner = self._oc_normal_owner(call)
        amount, buy_order = _amount(fields["amount"]), _long(fields["buyOrder"])
        if amount is None or buy_order is None or not fields["username"]:
            raise self.fault(MISSING_INPUT, "Invalid input fields")
        if (owner, buy_order) in self.oneclick_normal_payments:
            raise self.fault(NOT_ALLOWED, "Buy order already used")
        inscription = self._oc_user("normal", owner, fields["tbkUser"], fields["username"])
        if inscription is None:
            code = NO_INSCRIPTION
        elif amount > self.oneclick_amount_limit:
            code = AMOUNT_LIMIT
        elif self.oneclick_decline:
            code = REJECTED
        else:
            code = APPROVED
        payment = {
            "amount": amount,
            "response_code": code,
            "authorization_code": self._next_authorization_code() if code == APPROVED else "",
            "transaction_id": self._oc_next(),
            "authorized_at": self.clock.now(),
            "reversed": False,
            "reverse_code": None,
        }
        self.oneclick_normal_payments[(owner, buy_order)] = payment
        approved = code == APPROVED
        return {  # in the WSDL's order: zeep reads a sequence strictly
            "authorizationCode": payment["authorization_code"] if approved else None,
            "creditCardType": "Visa" if approved else None,
            "last4CardDigits": TEST_CARD_LAST4 if approved else None,
            "responseCode": code,
            "transactionId": payment["transaction_id"],
        }

    def _oc_normal_reverse(self, call):
        fields, _data = self._oc_input(call, "buyOrder")
        buy_order = _long(fields["buyOrder"])
        if buy_order is None:
            raise self.fault(MISSING_INPUT, "buyOrder is required")
        payment = self.oneclick_normal_payments.get((self._oc_normal_owner(call), buy_order))
        if payment is None or payment["response_code"] != APPROVED:
            return {"reversed": _bool(False)}  # nothing charged: nothing to reverse
        if not payment["reversed"]:
            if self._oc_day(payment["authorized_at"]) != self._oc_day(self.clock.now()):
                return {"reversed": _bool(False)}  # another accounting day: nullify instead
            payment["reversed"] = True
            payment["reverse_code"] = self._oc_next()
        # Again after a lost answer: the same reversal, not a new one.
        return {"reverseCode": payment["reverse_code"], "reversed": _bool(True)}

    @staticmethod
    def _oc_day(moment):
        return datetime.fromtimestamp(moment, ACCOUNTING_TZ).date()

    def _oc_normal_remove_user(self, call):
        return self._oc_remove(call, "normal", self._oc_normal_owner(call))

    # --- Oneclick Mall ---

    def _oc_mall_init_inscription(self, call):
        fields, _data = self._oc_input(call, "username", "email", "returnUrl")
        token, url = self._oc_start(
            "mall",
            self._oc_mall_of(call),
            fields["username"],
            fields["email"],
            fields["returnUrl"],
            MALL_FORM_PATH,
        )
        return {"token": token, "urlInscriptionForm": url}

    def _oc_mall_finish_inscription(self, call):
        inscription, accepted = self._oc_finish(call, "mall", self._oc_mall_of(call))
        if not accepted:
            return {"responseCode": CANCELLED_INSCRIPTION}
        return {
            "responseCode": APPROVED,
            "authorizationCode": inscription["authorization_code"],
            "creditCardType": "Visa",
            "cardNumber": f"XXXXXXXXXXXX{TEST_CARD_LAST4}",
            "cardExpirationDate": TEST_CARD_EXPIRATION,
            "cardOrigin": "NATIONAL_CARD",
            "tbkUser": inscription["tbk_user"],
        }

    def _oc_mall_authorize(self, call):
        mall = self._oc_mall_of(call)
        fields, data = self._oc_input(call, "buyOrder", "tbkUser", "username")
        buy_order = _long(fields["buyOrder"])
        stores = data.findall("storesInput")
        if buy_order is None or not stores:
            raise self.fault(MISSING_INPUT, "Invalid input fields")
        if (mall, str(buy_order)) in self.oneclick_mall_operations:
            raise self.fault(NOT_ALLOWED, "Buy order already used")
        if self._oc_user("mall", mall, fields["tbkUser"], fields["username"]) is None:
            raise self.fault(NOT_ALLOWED, "The user has no inscription")
        parts, seen = [], set()
        for store in stores:
            code = (store.findtext("commerceId") or "").strip()
            store_order = (store.findtext("buyOrder") or "").strip()
            amount = _amount(store.findtext("amount"))
            shares = _long(store.findtext("sharesNumber")) or 1
            if not code or not store_order or len(store_order) > 26 or amount is None:
                raise self.fault(MISSING_INPUT, "Invalid store input")
            self._check_commerce(call, code)
            if code not in self.mall_stores[mall]:
                raise self.fault(WRONG_CERTIFICATE, f"{code} is not a store of {mall}")
            if (code, store_order) in seen or self._oc_part(mall, code, store_order, False):
                raise self.fault(NOT_ALLOWED, "Store buy order already used")
            seen.add((code, store_order))
            parts.append(self._oc_mall_part(code, store_order, amount, shares))
        operation = {
            "mall": mall,
            "buy_order": str(buy_order),
            "authorized_at": self.clock.now(),
            "reversed": False,
            "parts": parts,
        }
        self.oneclick_mall_operations[(mall, str(buy_order))] = operation
        return {
            "commerceId": mall,
            "buyOrder": str(buy_order),
            "settlementDate": self._now_text("%m%d"),
            "authorizationDate": self._now_text("%Y-%m-%dT%H:%M:%S.000Z"),
            "storesOutput": [
                {
                    "commerceId": part["commerce_code"],
                    "buyOrder": part["buy_order"],
                    "amount": part["amount"],
                    "authorizationCode": part["authorization_code"],
                    "paymentType": part["payment_type"],
                    "responseCode": part["response_code"],
                    "sharesNumber": part["shares"],
                    "shareAmount": part["amount"] // part["shares"],
                }
                for part in parts
            ],
        }

    def _oc_mall_part(self, code, store_order, amount, shares):
        if code in self.rejected_stores:
            response_code = REJECTED
        elif amount > self.oneclick_amount_limit:
            response_code = AMOUNT_LIMIT
        else:
            response_code = APPROVED
        approved = response_code == APPROVED
        return {
            "commerce_code": code,
            "buy_order": store_order,
            "amount": amount,
            "shares": shares,
            "payment_type": ("VC" if shares > 1 else self.payment_type_code) if approved else None,
            "response_code": response_code,
            "authorization_code": self._next_authorization_code() if approved else "000000",
            "status": "AUTHORIZED" if approved else "FAILED",
            "balance": amount if approved else 0,
            "partial_nullifications": 0,
            "nullifications": [],
        }

    def _oc_part(self, mall, code, store_order, required=True):
        """The store part of one of `mall`'s operations, and its operation."""
        for operation in self.oneclick_mall_operations.values():
            if operation["mall"] != mall:
                continue
            for part in operation["parts"]:
                if part["commerce_code"] == code and part["buy_order"] == store_order:
                    return part, operation
        if required:
            raise self.fault(NOT_FOUND, "Transaction Not Found")
        return None

    def _oc_mall_reverse(self, call):
        mall = self._oc_mall_of(call)
        fields, _data = self._oc_input(call, "buyOrder")
        if not fields["buyOrder"]:
            raise self.fault(MISSING_INPUT, "buyOrder is required")
        operation = self.oneclick_mall_operations.get((mall, fields["buyOrder"]))
        if operation is None:
            raise self.fault(NOT_FOUND, "Transaction Not Found")
        in_window = self.clock.now() - operation["authorized_at"] <= MALL_REVERSE_WINDOW
        if in_window and not operation["reversed"]:
            operation["reversed"] = True
            for part in operation["parts"]:
                part["reverse_code"] = str(self._oc_next())
                part["status"] = "REVERSED"
                part["balance"] = 0
        done = operation["reversed"]  # again after a lost answer: the same reversal
        return [
            {
                "commerceId": part["commerce_code"],
                "buyOrder": part["buy_order"],
                "reversed": _bool(done),
                "reverseCode": part.get("reverse_code") if done else None,
            }
            for part in operation["parts"]
        ]

    def _oc_store_call(self, call, *names):
        mall = self._oc_mall_of(call)
        fields, _data = self._oc_input(call, "commerceId", "buyOrder", *names)
        if not all(fields.values()):
            raise self.fault(MISSING_INPUT, "Null input fields")
        self._check_commerce(call, fields["commerceId"])
        part, operation = self._oc_part(mall, fields["commerceId"], fields["buyOrder"])
        return fields, part, operation

    def _oc_mall_nullify(self, call):
        fields, part, operation = self._oc_store_call(
            call, "authorizedAmount", "authorizationCode", "nullifyAmount"
        )
        authorized, amount = _amount(fields["authorizedAmount"]), _amount(fields["nullifyAmount"])
        if authorized is None or amount is None:
            raise self.fault(MISSING_INPUT, "Invalid amount")
        if fields["authorizationCode"] != part["authorization_code"]:
            raise self.fault(NOT_FOUND, "Transaction Not Found")
        if part["status"] in ("REVERSED", "NULLIFIED"):
            raise self.fault(ALREADY_REVERSED, "Transaction previously reversed or nullified")
        deferred = part["commerce_code"] in self.deferred_codes
        if deferred and part["status"] == "AUTHORIZED":
            raise self.fault(NOT_DEFERRED, "Capture the transaction before nullifying it")
        if part["status"] not in ("AUTHORIZED", "CAPTURED", "PARTIALLY_NULLIFIED"):
            raise self.fault(NOT_AUTHORIZED, "Transaction is not authorized")
        if self.clock.now() - operation["authorized_at"] > NULLIFY_WINDOW:
            raise self.fault(PERIOD_EXCEEDED, "Nullification period exceeded")
        if authorized != part.get("captured_amount", part["amount"]):
            raise self.fault(NULLIFY_ERROR, "authorizedAmount does not match the sale")
        if amount > part["balance"]:
            raise self.fault(AMOUNT_EXCEEDS, "Amount exceeds the balance")
        partial = amount < part["balance"]
        if partial:
            if part["shares"] > 1:
                raise self.fault(
                    NO_PARTIAL_INSTALLMENTS, "No partial nullification of installments"
                )
            if part["partial_nullifications"]:
                raise self.fault(NULLIFY_ERROR, "Only one partial nullification is allowed")
            part["partial_nullifications"] += 1
        part["balance"] -= amount
        part["status"] = "NULLIFIED" if part["balance"] == 0 else "PARTIALLY_NULLIFIED"
        nullification = {
            "amount": amount,
            "partial": partial,
            "previous_status": "CAPTURED" if "captured_amount" in part else "AUTHORIZED",
            "reversed": False,
            "token": secrets.token_hex(32),
        }
        part["nullifications"].append(nullification)
        return {
            "token": nullification["token"],
            "buyOrder": part["buy_order"],
            "commerceId": part["commerce_code"],
            "authorizationCode": self._next_authorization_code(),
            "authorizationDate": self._now_text("%Y-%m-%dT%H:%M:%S.000Z"),
            "nullifiedAmount": amount,
            "balance": part["balance"],
        }

    def _oc_mall_reverse_nullification(self, call):
        fields, part, _operation = self._oc_store_call(call, "nullifyAmount")
        amount = _amount(fields["nullifyAmount"])
        if amount is None:
            raise self.fault(MISSING_INPUT, "Invalid amount")
        for nullification in reversed(part["nullifications"]):
            if nullification["amount"] != amount:
                continue
            if not nullification["reversed"]:
                nullification["reversed"] = True
                nullification["reverse_code"] = self._oc_next()
                part["balance"] += amount
                if nullification["partial"]:
                    part["partial_nullifications"] -= 1
                full = part["balance"] == part.get("captured_amount", part["amount"])
                part["status"] = nullification["previous_status"] if full else "PARTIALLY_NULLIFIED"
            return {"reversed": _bool(True), "reverseCode": nullification["reverse_code"]}
        return {"reversed": _bool(False)}  # no such nullification: nothing to undo

    def _oc_mall_remove_inscription(self, call):
        return self._oc_remove(call, "mall", self._oc_mall_of(call))

    def _oc_mall_capture(self, call):
        fields, part, operation = self._oc_store_call(call, "authorizationCode", "capturedAmount")
        amount = _amount(fields["capturedAmount"])
        if amount is None:
            raise self.fault(MISSING_INPUT, "Invalid amount")
        if fields["authorizationCode"] != part["authorization_code"]:
            raise self.fault(NOT_FOUND, "Transaction Not Found")
        if part["commerce_code"] not in self.deferred_codes:
            raise self.fault(NOT_DEFERRED, "Transaction is not deferred capture")
        if part["status"] in ("REVERSED", "NULLIFIED", "PARTIALLY_NULLIFIED"):
            raise self.fault(ALREADY_REVERSED, "Transaction previously reversed")
        if part["status"] == "CAPTURED":
            raise self.fault(ALREADY_CAPTURED, "Transaction previously captured")
        if part["status"] != "AUTHORIZED":
            raise self.fault(NOT_AUTHORIZED, "Transaction is not authorized")
        if self.clock.now() - operation["authorized_at"] > CAPTURE_WINDOW:
            raise self.fault(PERIOD_EXCEEDED, "Capture period exceeded")
        if amount > part["amount"]:
            raise self.fault(AMOUNT_EXCEEDS, "Amount exceeds the authorized amount")
        part.update(
            status="CAPTURED",
            captured_amount=amount,
            balance=amount,
            capture_authorization_code=self._next_authorization_code(),
        )
        return {
            "token": secrets.token_hex(32),
            "authorizationCode": part["capture_authorization_code"],
            "authorizationDate": self._now_text("%Y-%m-%dT%H:%M:%S.000Z"),
            "capturedAmount": amount,
        }

    # --- the browser: the inscription form ---

    @route("POST", NORMAL_FORM_PATH)
    def oneclick_normal_form(self, request):
        return self._oc_form(request, NORMAL_FORM_PATH, "Oneclick")

    @route("POST", MALL_FORM_PATH)
    def oneclick_mall_form(self, request):
        return self._oc_form(request, MALL_FORM_PATH, "Oneclick Mall")

    @route("POST", NORMAL_FORM_PATH + r"/decide")
    def oneclick_normal_decide(self, request):
        form = request.form()
        return self._oc_decide(form.get("TBK_TOKEN", ""), form.get("outcome", ""))

    @route("POST", MALL_FORM_PATH + r"/decide")
    def oneclick_mall_decide(self, request):
        form = request.form()
        return self._oc_decide(form.get("TBK_TOKEN", ""), form.get("outcome", ""))

    def _oc_form(self, request, form_path, title):
        token = request.form().get("TBK_TOKEN", "")
        with self.state_lock:
            inscription = self.oneclick_inscriptions.get(token)
        if inscription is None or inscription["form_path"] != form_path:
            return Response.text("<h1>Inscripción no encontrada</h1>", 404, "text/html")
        if self.oneclick_autopilot:
            return self._oc_decide(token, self.oneclick_autopilot)
        page = f"""<!DOCTYPE html><html lang="es"><head><meta charset="utf-8">
<title>{title} SOAP (simulador)</title></head><body style="font-family:sans-serif">
<h1>{title} &mdash; inscripción de tarjeta (simulador local, SOAP)</h1>
<p>Usuario <b>{html.escape(inscription["username"])}</b></p>
<p>Tarjeta de prueba VISA terminada en {TEST_CARD_LAST4}</p>
<form method="post" action="{form_path}/decide">
<input type="hidden" name="TBK_TOKEN" value="{html.escape(token)}">
<button name="outcome" value="accept" id="oneclick-accept">Inscribir tarjeta</button>
<button name="outcome" value="abort" id="oneclick-abort">Anular</button></form>
</body></html>"""
        return Response.text(page, content_type="text/html; charset=utf-8")

    def _oc_decide(self, token, outcome):
        if outcome not in INSCRIPTION_OUTCOMES:
            return Response.text("<h1>Opción desconocida</h1>", 400, "text/html")
        with self.state_lock:
            inscription = self.oneclick_inscriptions.get(token)
            if inscription is None:
                return Response.text("<h1>Inscripción no encontrada</h1>", 404, "text/html")
            if inscription["decision"] is not None:
                return Response.text("<h1>Inscripción ya procesada</h1>", 409, "text/html")
            inscription["decision"] = outcome
        return _return_page(inscription["return_url"], token)

    # --- for tests ---

    def oneclick_users(self, service):
        """Active inscriptions of `service` ("normal" or "mall")."""
        with self.state_lock:
            return [
                dict(item)
                for item in self.oneclick_inscriptions.values()
                if item["service"] == service and item["tbk_user"] and not item["removed"]
            ]

    def oneclick_normal_payment(self, buy_order):
        with self.state_lock:
            for (_owner, order), payment in self.oneclick_normal_payments.items():
                if order == int(buy_order):
                    return dict(payment)
        return None

    def oneclick_mall_operation(self, buy_order, mall=None):
        with self.state_lock:
            for (owner, order), operation in self.oneclick_mall_operations.items():
                if order == str(buy_order) and mall in (None, owner):
                    return operation
        return None

    def oneclick_age(self, buy_order, seconds):
        """Make a payment `seconds` older (windows of days: the clock cannot jump that far,
        the client's Timestamp would go stale)."""
        with self.state_lock:
            for (_owner, order), payment in self.oneclick_normal_payments.items():
                if order == int(buy_order):
                    payment["authorized_at"] -= seconds
            for (_owner, order), operation in self.oneclick_mall_operations.items():
                if order == str(buy_order):
                    operation["authorized_at"] -= seconds
