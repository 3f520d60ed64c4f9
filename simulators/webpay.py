"""Transbank Webpay Plus (REST v1.2) on loopback, with its payment form.

Implements what Transbank documents: create, commit, status, the payment
form and the four ways the browser comes back to the merchant's return URL.
It keeps its own copy of Transbank's rules: it stands for the other side of
the wire and shares no code with the addon's client.

The form shows one button per outcome for a person (the `make run` demo).
Tests set `autopilot` to an outcome: the form then decides at once and sends
the browser back, as Transbank would after the shopper acted.
"""

import html
import re
import secrets
from datetime import datetime, timezone

from .harness import GatewaySimulator, Response, route
from .webpay_mall import DEFERRED_MALLS, PLUS_MALL_STORES, PlusMallRoutes
from .webpay_oneclick import OneclickRoutes

API = "/rswebpaytransaction/api/webpay/v1.2"
FORM_PATH = "/webpayserver/initTransaction"

# Transbank's published integration credentials (developer docs and SDKs).
INTEGRATION_KEY = "579B532A7440BB0C9079DED94D31EA1615BACEB56610332264630D42D0A36B1C"
INTEGRATION_CREDENTIALS = {
    "597055555532": "579B532A7440BB0C9079DED94D31EA1615BACEB56610332264630D42D0A36B1C",
    "597055555540": "579B532A7440BB0C9079DED94D31EA1615BACEB56610332264630D42D0A36B1C",
    "597055555541": "579B532A7440BB0C9079DED94D31EA1615BACEB56610332264630D42D0A36B1C",
    **dict.fromkeys(PLUS_MALL_STORES, INTEGRATION_KEY),
}

# Commerce codes whose authorizations wait for a capture (integration's deferred one).
DEFERRED_CAPTURE_CODES = {"597055555540", *DEFERRED_MALLS, "597055555582", "597055555583"}
REVERSAL_WINDOW = 3 * 3600  # a full refund this soon after the sale is a reversal
NULLIFICATION_WINDOW = 90 * 86400
CAPTURE_WINDOW = 7 * 86400
NO_PARTIAL_REFUND_TYPES = {"VD", "VP"}  # debit and prepaid: nullified in full only
INSTALLMENT_TYPES = {"VC", "SI", "S2", "NC"}  # Transbank's error 53 on a partial refund

OUTCOMES = ("approve", "reject", "abort", "timeout", "form_error")
_BUY_ORDER = re.compile(r"^[A-Za-z0-9|_=&%.,~:/?\[+!@()>-]{1,26}$")

# The integration environment's approved VISA test card.
TEST_CARD_LAST4 = "6623"


class WebpaySimulator(PlusMallRoutes, OneclickRoutes, GatewaySimulator):
    name = "webpay"
    form_path = FORM_PATH

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.credentials = dict(INTEGRATION_CREDENTIALS)
        self.transactions = {}
        self.autopilot = None  # an outcome from OUTCOMES, or None to show buttons
        self.payment_type_code = "VN"
        self.installments_number = 0
        self._authorizations = 0
        self._oneclick_setup()

    # --- helpers ---

    def _error(self, status, message):
        return Response.json({"error_message": message}, status=status)

    def _known_transaction(self, request, token):
        """Return (transaction, None), or (None, the error Transbank answers)."""
        refused = self._authenticate(request)
        if refused:
            return None, refused
        tx = self.transactions.get(token)
        if tx is None:
            return None, self._error(422, "Invalid value for parameter: token")
        return tx, None

    def _authenticate(self, request):
        code = request.header("Tbk-Api-Key-Id")
        secret = request.header("Tbk-Api-Key-Secret")
        if not code or self.credentials.get(code) != secret:
            return self._error(401, "Not Authorized")
        return None

    def _next_authorization_code(self):  # called under state_lock
        self._authorizations += 1
        return f"{1213 + self._authorizations:06d}"

    def _iso_now(self):
        return datetime.fromtimestamp(self.clock.now(), timezone.utc).strftime(
            "%Y-%m-%dT%H:%M:%S.000Z"
        )

    def _amount_of(self, request, key):
        try:
            amount = request.json().get(key)
        except (ValueError, AttributeError):
            return None
        if isinstance(amount, str):
            try:
                amount = float(amount)
            except ValueError:
                return None
        if not isinstance(amount, int | float) or amount <= 0 or amount != int(amount):
            return None
        return int(amount)

    def _refund(self, tx, amount):  # called under state_lock; tx: a sale or a mall detail
        if tx["status"] not in ("AUTHORIZED", "CAPTURED", "PARTIALLY_NULLIFIED"):
            return self._error(422, f"Invalid status '{tx['status']}' for refund")
        balance = tx["balance"] if tx.get("balance") is not None else tx["amount"]
        if amount > balance:
            return self._error(422, "The amount to refund is greater than the balance")
        age = self.clock.now() - tx["committed_at"]
        untouched = tx.get("balance") is None and amount == tx["amount"]
        deferred = tx["commerce_code"] in DEFERRED_CAPTURE_CODES
        if untouched and ((deferred and tx["status"] == "AUTHORIZED") or age <= REVERSAL_WINDOW):
            tx.update(status="REVERSED", balance=0)
            return Response.json({"type": "REVERSED"})
        if age > NULLIFICATION_WINDOW:
            return self._error(422, "The transaction is too old to be nullified")
        if amount < balance and tx["payment_type_code"] in NO_PARTIAL_REFUND_TYPES:
            return self._error(422, "Debit and prepaid sales can only be nullified in full")
        if amount < balance and tx["payment_type_code"] in INSTALLMENT_TYPES:
            return self._error(422, "53: partial nullification of an installment sale")
        balance -= amount
        tx.update(status="NULLIFIED" if balance == 0 else "PARTIALLY_NULLIFIED", balance=balance)
        return Response.json(
            {
                "type": "NULLIFIED",
                "authorization_code": self._next_authorization_code(),
                "authorization_date": self._iso_now(),
                "nullified_amount": amount,
                "balance": balance,
                "response_code": 0,
            }
        )

    def _transaction_body(self, tx):
        body = {
            "vci": tx.get("vci", ""),
            "amount": tx["amount"],
            "status": tx["status"],
            "buy_order": tx["buy_order"],
            "session_id": tx["session_id"],
            "card_detail": {"card_number": tx.get("card_number", "")},
            "accounting_date": tx.get("accounting_date", ""),
            "transaction_date": tx.get("transaction_date", ""),
            "authorization_code": tx.get("authorization_code", ""),
            "payment_type_code": tx.get("payment_type_code", ""),
            "response_code": tx.get("response_code"),
            "installments_number": tx.get("installments_number", 0),
        }
        if tx.get("installments_amount") is not None:
            body["installments_amount"] = tx["installments_amount"]
        if tx.get("balance") is not None:
            body["balance"] = tx["balance"]
        return body

    # --- REST API ---

    @route("POST", API + r"/transactions")
    def create_transaction(self, request):
        refused = self._authenticate(request)
        if refused:
            return refused
        try:
            payload = request.json()
        except ValueError:
            return self._error(400, "Invalid JSON")
        if request.header("Tbk-Api-Key-Id") in PLUS_MALL_STORES:
            return self._create_mall(request, payload)
        buy_order = str(payload.get("buy_order") or "")
        session_id = str(payload.get("session_id") or "")
        return_url = str(payload.get("return_url") or "")
        amount = payload.get("amount")
        if not _BUY_ORDER.match(buy_order):
            return self._error(422, "buy_order is invalid or longer than 26 characters")
        if not session_id or len(session_id) > 61:
            return self._error(422, "session_id is required, at most 61 characters")
        if not return_url or len(return_url) > 256:
            return self._error(422, "return_url is required, at most 256 characters")
        if not isinstance(amount, int | float) or amount <= 0 or amount != int(amount):
            return self._error(422, "amount must be a positive whole number of pesos")
        token = secrets.token_hex(32)
        with self.state_lock:
            self.transactions[token] = {
                "buy_order": buy_order,
                "session_id": session_id,
                "amount": int(amount),
                "return_url": return_url,
                "commerce_code": request.header("Tbk-Api-Key-Id"),
                "status": "INITIALIZED",
                "decision": None,
                "commits": 0,
            }
        return Response.json({"token": token, "url": f"{self.url}{FORM_PATH}"})

    @route("PUT", API + r"/transactions/(?P<token>[^/]+)")
    def commit_transaction(self, request, token):
        with self.state_lock:
            tx, refused = self._known_transaction(request, token)
            if refused:
                return refused
            tx["commits"] += 1
            if tx["decision"] is None:
                return self._error(
                    422,
                    "Invalid status '0' for transaction while authorizing. Commerce has sent "
                    "the commit before the form was processed",
                )
            if tx["decision"] in ("abort", "timeout", "form_error"):
                return self._error(422, "Transaction has an invalid finished state: aborted")
            if tx.get("committed"):
                return self._error(422, "Invalid status '1' for transaction while authorizing")
            tx["committed"] = True
            if tx.get("details") is not None:
                return self._commit_mall(tx)
            now = self.clock.now()
            tx["committed_at"] = now
            tx["transaction_date"] = self._iso_now()
            tx["accounting_date"] = datetime.fromtimestamp(now, timezone.utc).strftime("%m%d")
            tx["card_number"] = TEST_CARD_LAST4
            tx["payment_type_code"] = self.payment_type_code
            tx["installments_number"] = self.installments_number
            if self.installments_number:
                tx["installments_amount"] = tx["amount"] // self.installments_number
            if tx["decision"] == "approve":
                tx.update(
                    status="AUTHORIZED",
                    response_code=0,
                    vci="TSY",
                    authorization_code=self._next_authorization_code(),
                )
            else:
                tx.update(status="FAILED", response_code=-1, vci="TSN", authorization_code="000000")
            return Response.json(self._transaction_body(tx))

    @route("GET", API + r"/transactions/(?P<token>[^/]+)")
    def transaction_status(self, request, token):
        with self.state_lock:
            tx, refused = self._known_transaction(request, token)
            if refused:
                return refused
            if tx["decision"] in ("abort", "timeout", "form_error"):
                return self._error(422, "Transaction has an invalid finished state: aborted")
            if tx.get("details") is not None:
                return Response.json(self._mall_plus_body(tx))
            return Response.json(self._transaction_body(tx))

    @route("POST", API + r"/transactions/(?P<token>[^/]+)/refunds")
    def refund_transaction(self, request, token):
        with self.state_lock:
            tx, refused = self._known_transaction(request, token)
            if refused:
                return refused
            if tx.get("details") is not None:
                return self._refund_mall(request, tx)
            amount = self._amount_of(request, "amount")
            if amount is None:
                return self._error(422, "Invalid value for parameter: amount")
            return self._refund(tx, amount)

    @route("PUT", API + r"/transactions/(?P<token>[^/]+)/capture")
    def capture_transaction(self, request, token):
        with self.state_lock:
            tx, refused = self._known_transaction(request, token)
            if refused:
                return refused
            if tx.get("details") is not None:
                return self._capture_mall(request, tx)
            if tx["commerce_code"] not in DEFERRED_CAPTURE_CODES:
                return self._error(422, "The commerce code does not capture deferred")
            if tx["status"] == "CAPTURED":
                return self._error(422, "The transaction was already captured")
            if tx["status"] != "AUTHORIZED":
                return self._error(422, f"Invalid status '{tx['status']}' for capture")
            try:
                payload = request.json()
            except ValueError:
                return self._error(400, "Invalid JSON")
            if (
                payload.get("buy_order") != tx["buy_order"]
                or str(payload.get("authorization_code")) != tx["authorization_code"]
            ):
                return self._error(422, "buy_order or authorization_code do not match")
            amount = self._amount_of(request, "capture_amount")
            if amount is None or amount > tx["amount"]:
                return self._error(422, "Invalid value for parameter: capture_amount")
            if self.clock.now() - tx["committed_at"] > CAPTURE_WINDOW:
                return self._error(422, "The authorization expired")
            tx.update(status="CAPTURED", captured_amount=amount)
            return Response.json(
                {
                    "authorization_code": tx["authorization_code"],
                    "authorization_date": self._iso_now(),
                    "captured_amount": amount,
                    "response_code": 0,
                }
            )

    # --- the payment form the browser is sent to ---

    @route("POST", FORM_PATH)
    def payment_form(self, request):
        token = request.form().get("token_ws", "")
        with self.state_lock:
            tx = self.transactions.get(token)
        if tx is None:
            return Response.text("<h1>Transacción no encontrada</h1>", 404, "text/html")
        if self.autopilot:
            return self._decide(token, self.autopilot)
        amount = f"{tx['amount']:,}".replace(",", ".")
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
<title>Webpay (simulador)</title></head><body style="font-family:sans-serif">
<h1>Webpay Plus &mdash; simulador local</h1>
<p>Orden de compra <b>{html.escape(tx["buy_order"])}</b> por <b>$ {amount}</b></p>
<p>Tarjeta de prueba VISA terminada en {TEST_CARD_LAST4}</p>
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
            tx["decision"] = outcome
        # How the browser goes back, per Transbank's docs for API v1.1 and later.
        if outcome in ("approve", "reject"):
            method, fields = "get", {"token_ws": token}
        elif outcome == "abort":
            method, fields = (
                "post",
                {
                    "TBK_TOKEN": token,
                    "TBK_ORDEN_COMPRA": tx["buy_order"],
                    "TBK_ID_SESION": tx["session_id"],
                },
            )
        elif outcome == "timeout":
            method = "post"
            fields = {"TBK_ORDEN_COMPRA": tx["buy_order"], "TBK_ID_SESION": tx["session_id"]}
        else:
            method, fields = (
                "post",
                {
                    "token_ws": token,
                    "TBK_TOKEN": token,
                    "TBK_ORDEN_COMPRA": tx["buy_order"],
                    "TBK_ID_SESION": tx["session_id"],
                },
            )
        inputs = "".join(
            f'<input type="hidden" name="{name}" value="{html.escape(value)}">'
            for name, value in fields.items()
        )
        page = f"""<!DOCTYPE html><html><head><meta charset="utf-8"></head>
<body onload="document.forms[0].submit()"><p>Volviendo al comercio&hellip;</p>
<form method="{method}" action="{html.escape(tx["return_url"])}">{inputs}</form></body></html>"""
        return Response.text(page, content_type="text/html; charset=utf-8")

    # --- for tests ---

    def commits_of(self, token):
        with self.state_lock:
            return self.transactions.get(token, {}).get("commits", 0)
