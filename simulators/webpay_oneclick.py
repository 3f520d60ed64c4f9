"""Transbank Oneclick Mall (REST v1.2) routes for the Webpay simulator.

Inscriptions (start, the card form, finish, delete) and mall payments with
saved cards (authorize, status, refund). Mixed into `WebpaySimulator`, which
brings authentication, the clock and the refund rules.
"""

import html
import secrets

from .harness import Response, route

ONECLICK_API = "/rswebpaytransaction/api/oneclick/v1.2"
INSCRIPTION_FORM_PATH = "/webpayserver/bp_multicode_inscription.cgi"

# Integration mall commerce codes and the stores each one owns.
MALL_STORES = {
    "597055555541": {"597055555542", "597055555543"},
}
INSCRIPTION_OUTCOMES = ("accept", "abort")
# What finishing an inscription the shopper cancelled answers.
CANCELLED_INSCRIPTION_CODE = -96
TEST_CARD_LAST4 = "6623"


class OneclickRoutes:
    """Oneclick Mall; expects the attributes and helpers of WebpaySimulator."""

    def _oneclick_setup(self):
        """Start with no inscriptions and no payments (tests call it between cases)."""
        self.inscriptions = {}  # token → inscription
        self.mall_transactions = {}  # parent buy order → transaction
        self.inscription_autopilot = None  # "accept", "abort", or None for buttons
        self.oneclick_decline = False  # the issuer declines saved-card payments

    def _mall_of(self, request):
        refused = self._authenticate(request)
        if refused:
            return None, refused
        mall = request.header("Tbk-Api-Key-Id")
        if mall not in MALL_STORES:
            return None, self._error(401, "Not Authorized: not a Oneclick Mall commerce code")
        return mall, None

    def _json_body(self, request):
        try:
            payload = request.json()
        except ValueError:
            return None
        return payload if isinstance(payload, dict) else None

    def _active_inscription(self, mall, username, tbk_user):
        for inscription in self.inscriptions.values():
            if (
                inscription["mall"] == mall
                and inscription["tbk_user"] == tbk_user
                and inscription["username"] == username
                and not inscription["deleted"]
            ):
                return inscription
        return None

    # --- inscriptions ---

    @route("POST", ONECLICK_API + r"/inscriptions")
    def start_inscription(self, request):
        mall, refused = self._mall_of(request)
        if refused:
            return refused
        payload = self._json_body(request)
        if payload is None:
            return self._error(400, "Invalid JSON")
        username = str(payload.get("username") or "")
        email = str(payload.get("email") or "")
        response_url = str(payload.get("response_url") or "")
        if not username or len(username) > 40:
            return self._error(422, "username is required, at most 40 characters")
        if "@" not in email or len(email) > 100:
            return self._error(422, "email is invalid")
        if not response_url or len(response_url) > 255:
            return self._error(422, "response_url is required, at most 255 characters")
        token = secrets.token_hex(32)
        with self.state_lock:
            self.inscriptions[token] = {
                "mall": mall,
                "username": username,
                "email": email,
                "response_url": response_url,
                "decision": None,
                "finished": False,
                "tbk_user": None,
                "deleted": False,
            }
        return Response.json({"token": token, "url_webpay": f"{self.url}{INSCRIPTION_FORM_PATH}"})

    @route("POST", INSCRIPTION_FORM_PATH)
    def inscription_form(self, request):
        token = request.form().get("TBK_TOKEN", "")
        with self.state_lock:
            inscription = self.inscriptions.get(token)
        if inscription is None:
            return Response.text("<h1>Inscripción no encontrada</h1>", 404, "text/html")
        if self.inscription_autopilot:
            return self._decide_inscription(token, self.inscription_autopilot)
        page = f"""<!DOCTYPE html><html lang="es"><head><meta charset="utf-8">
<title>Oneclick (simulador)</title></head><body style="font-family:sans-serif">
<h1>Oneclick Mall &mdash; inscripción de tarjeta (simulador local)</h1>
<p>Usuario <b>{html.escape(inscription["username"])}</b></p>
<p>Tarjeta de prueba VISA terminada en {TEST_CARD_LAST4}</p>
<form method="post" action="{INSCRIPTION_FORM_PATH}/decide">
<input type="hidden" name="TBK_TOKEN" value="{html.escape(token)}">
<button name="outcome" value="accept" id="oneclick-accept">Inscribir tarjeta</button>
<button name="outcome" value="abort" id="oneclick-abort">Anular</button></form>
</body></html>"""
        return Response.text(page, content_type="text/html; charset=utf-8")

    @route("POST", INSCRIPTION_FORM_PATH + r"/decide")
    def decide_inscription(self, request):
        form = request.form()
        return self._decide_inscription(form.get("TBK_TOKEN", ""), form.get("outcome", ""))

    def _decide_inscription(self, token, outcome):
        if outcome not in INSCRIPTION_OUTCOMES:
            return Response.text("<h1>Opción desconocida</h1>", 400, "text/html")
        with self.state_lock:
            inscription = self.inscriptions.get(token)
            if inscription is None:
                return Response.text("<h1>Inscripción no encontrada</h1>", 404, "text/html")
            inscription["decision"] = outcome
        page = f"""<!DOCTYPE html><html><head><meta charset="utf-8"></head>
<body onload="document.forms[0].submit()"><p>Volviendo al comercio&hellip;</p>
<form method="post" action="{html.escape(inscription["response_url"])}">
<input type="hidden" name="TBK_TOKEN" value="{html.escape(token)}"></form></body></html>"""
        return Response.text(page, content_type="text/html; charset=utf-8")

    @route("PUT", ONECLICK_API + r"/inscriptions/(?P<token>[^/]+)")
    def finish_inscription(self, request, token):
        mall, refused = self._mall_of(request)
        if refused:
            return refused
        with self.state_lock:
            inscription = self.inscriptions.get(token)
            if inscription is None or inscription["mall"] != mall:
                return self._error(422, "Invalid value for parameter: token")
            if inscription["decision"] is None or inscription["finished"]:
                return self._error(422, "Invalid status for inscription")
            inscription["finished"] = True
            if inscription["decision"] == "abort":
                return Response.json({"response_code": CANCELLED_INSCRIPTION_CODE})
            inscription["tbk_user"] = secrets.token_hex(16)
            return Response.json(
                {
                    "response_code": 0,
                    "tbk_user": inscription["tbk_user"],
                    "authorization_code": self._next_authorization_code(),
                    "card_type": "Visa",
                    "card_number": f"XXXXXXXXXXXX{TEST_CARD_LAST4}",
                }
            )

    @route("DELETE", ONECLICK_API + r"/inscriptions")
    def delete_inscription(self, request):
        mall, refused = self._mall_of(request)
        if refused:
            return refused
        payload = self._json_body(request) or {}
        with self.state_lock:
            inscription = self._active_inscription(
                mall, str(payload.get("username") or ""), str(payload.get("tbk_user") or "")
            )
            if inscription is None:
                return self._error(404, "Inscription not found")
            inscription["deleted"] = True
        return Response(204)

    # --- payments with a saved card ---

    @route("POST", ONECLICK_API + r"/transactions")
    def authorize(self, request):
        mall, refused = self._mall_of(request)
        if refused:
            return refused
        payload = self._json_body(request)
        if payload is None or not isinstance(payload.get("details"), list):
            return self._error(400, "Invalid JSON")
        buy_order = str(payload.get("buy_order") or "")
        with self.state_lock:
            inscription = self._active_inscription(
                mall, str(payload.get("username") or ""), str(payload.get("tbk_user") or "")
            )
            if inscription is None:
                return self._error(422, "Invalid value for parameter: tbk_user")
            if not buy_order or buy_order in self.mall_transactions:
                return self._error(422, "buy_order is invalid or already used")
            details = []
            for item in payload["details"]:
                store = str(item.get("commerce_code") or "")
                amount = item.get("amount")
                if store not in MALL_STORES[mall]:
                    return self._error(422, "Invalid value for parameter: commerce_code")
                if not isinstance(amount, int | float) or amount <= 0 or amount != int(amount):
                    return self._error(422, "Invalid value for parameter: amount")
                declined = self.oneclick_decline
                details.append(
                    {
                        "commerce_code": store,
                        "buy_order": str(item.get("buy_order") or ""),
                        "amount": int(amount),
                        "status": "FAILED" if declined else "AUTHORIZED",
                        "response_code": -1 if declined else 0,
                        "authorization_code": "000000"
                        if declined
                        else self._next_authorization_code(),
                        "payment_type_code": "VN",
                        "installments_number": 0,
                        "committed_at": self.clock.now(),
                    }
                )
            transaction = {
                "mall": mall,
                "buy_order": buy_order,
                "card_number": f"XXXXXXXXXXXX{TEST_CARD_LAST4}",
                "transaction_date": self._iso_now(),
                "accounting_date": self._iso_now()[5:10].replace("-", ""),
                "details": details,
            }
            self.mall_transactions[buy_order] = transaction
            return Response.json(self._mall_body(transaction))

    @route("GET", ONECLICK_API + r"/transactions/(?P<buy_order>[^/]+)")
    def mall_status(self, request, buy_order):
        mall, refused = self._mall_of(request)
        if refused:
            return refused
        with self.state_lock:
            transaction = self.mall_transactions.get(buy_order)
            if transaction is None or transaction["mall"] != mall:
                return self._error(422, "Invalid value for parameter: buy_order")
            return Response.json(self._mall_body(transaction))

    @route("POST", ONECLICK_API + r"/transactions/(?P<buy_order>[^/]+)/refunds")
    def refund_detail(self, request, buy_order):
        mall, refused = self._mall_of(request)
        if refused:
            return refused
        payload = self._json_body(request) or {}
        with self.state_lock:
            transaction = self.mall_transactions.get(buy_order)
            if transaction is None or transaction["mall"] != mall:
                return self._error(422, "Invalid value for parameter: buy_order")
            detail = next(
                (
                    item
                    for item in transaction["details"]
                    if item["commerce_code"] == payload.get("commerce_code")
                    and item["buy_order"] == payload.get("detail_buy_order")
                ),
                None,
            )
            if detail is None:
                return self._error(422, "Invalid value for parameter: detail_buy_order")
            amount = self._amount_of(request, "amount")
            if amount is None:
                return self._error(422, "Invalid value for parameter: amount")
            return self._refund(detail, amount)

    def _mall_body(self, transaction):
        return {
            "buy_order": transaction["buy_order"],
            "card_detail": {"card_number": transaction["card_number"]},
            "accounting_date": transaction["accounting_date"],
            "transaction_date": transaction["transaction_date"],
            "details": [
                {key: value for key, value in item.items() if key != "committed_at"}
                for item in transaction["details"]
            ],
        }

    # --- for tests ---

    def active_inscriptions(self):
        with self.state_lock:
            return [
                dict(item)
                for item in self.inscriptions.values()
                if item["tbk_user"] and not item["deleted"]
            ]
