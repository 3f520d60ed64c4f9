"""Transbank Webpay Plus Mall (REST v1.2) for the Webpay simulator.

Same paths as Webpay Plus: a transaction opened with a mall commerce code
carries `details`, one per store, and every answer and action is per store.
Mixed into `WebpaySimulator`, whose handlers hand mall transactions here.
"""

import re
import secrets

from .harness import Response

# Integration mall commerce codes and their stores; the second captures deferred.
PLUS_MALL_STORES = {
    "597055555535": {"597055555536", "597055555537"},
    "597055555581": {"597055555582", "597055555583"},
}
DEFERRED_MALLS = {"597055555581"}
_BUY_ORDER = re.compile(r"^[A-Za-z0-9|_=&%.,~:/?\[+!@()>-]{1,26}$")


class PlusMallRoutes:
    """Webpay Plus Mall; expects the attributes and helpers of WebpaySimulator."""

    def _create_mall(self, request, payload):
        mall = request.header("Tbk-Api-Key-Id")
        buy_order = str(payload.get("buy_order") or "")
        session_id = str(payload.get("session_id") or "")
        return_url = str(payload.get("return_url") or "")
        details = payload.get("details")
        if not _BUY_ORDER.match(buy_order):
            return self._error(422, "buy_order is invalid or longer than 26 characters")
        if not session_id or len(session_id) > 61 or not return_url or len(return_url) > 256:
            return self._error(422, "session_id and return_url are required")
        if not isinstance(details, list) or not details:
            return self._error(422, "details are required")
        parts = []
        for item in details:
            amount = item.get("amount") if isinstance(item, dict) else None
            store = str(item.get("commerce_code") or "") if isinstance(item, dict) else ""
            store_buy_order = str(item.get("buy_order") or "") if isinstance(item, dict) else ""
            if store not in PLUS_MALL_STORES[mall]:
                return self._error(422, "Invalid value for parameter: commerce_code")
            if not _BUY_ORDER.match(store_buy_order):
                return self._error(422, "Invalid value for parameter: details.buy_order")
            if not isinstance(amount, int | float) or amount <= 0 or amount != int(amount):
                return self._error(422, "amount must be a positive whole number of pesos")
            parts.append(
                {
                    "commerce_code": store,
                    "buy_order": store_buy_order,
                    "amount": int(amount),
                    "status": "INITIALIZED",
                    "payment_type_code": self.payment_type_code,
                }
            )
        token = secrets.token_hex(32)
        with self.state_lock:
            self.transactions[token] = {
                "buy_order": buy_order,
                "session_id": session_id,
                "return_url": return_url,
                "commerce_code": mall,
                "amount": sum(part["amount"] for part in parts),
                "status": "INITIALIZED",
                "decision": None,
                "commits": 0,
                "details": parts,
            }
        return Response.json({"token": token, "url": f"{self.url}{self.form_path}"})

    def _commit_mall(self, tx):  # called under state_lock, once per decided token
        approved = tx["decision"] == "approve"
        tx.update(
            status="COMMITTED",
            vci="TSY" if approved else "TSN",
            transaction_date=self._iso_now(),
            accounting_date=self._iso_now()[5:10].replace("-", ""),
        )
        for part in tx["details"]:
            part.update(
                status="AUTHORIZED" if approved else "FAILED",
                response_code=0 if approved else -1,
                authorization_code=self._next_authorization_code() if approved else "000000",
                installments_number=0,
                committed_at=self.clock.now(),
            )
        return Response.json(self._mall_plus_body(tx))

    def _mall_plus_body(self, tx):
        return {
            "vci": tx.get("vci", ""),
            "buy_order": tx["buy_order"],
            "session_id": tx["session_id"],
            "card_detail": {"card_number": "6623" if tx.get("transaction_date") else ""},
            "accounting_date": tx.get("accounting_date", ""),
            "transaction_date": tx.get("transaction_date", ""),
            "details": [
                {key: value for key, value in part.items() if key != "committed_at"}
                for part in tx["details"]
            ],
        }

    def _store_part(self, tx, payload):
        for part in tx["details"]:
            if part["commerce_code"] == payload.get("commerce_code") and part[
                "buy_order"
            ] == payload.get("buy_order"):
                return part
        return None

    def _refund_mall(self, request, tx):
        payload = request.json()
        part = self._store_part(tx, payload)
        if part is None:
            return self._error(422, "Invalid value for parameter: commerce_code or buy_order")
        amount = self._amount_of(request, "amount")
        if amount is None:
            return self._error(422, "Invalid value for parameter: amount")
        return self._refund(part, amount)

    def _capture_mall(self, request, tx):
        if tx["commerce_code"] not in DEFERRED_MALLS:
            return self._error(422, "The commerce code does not capture deferred")
        payload = request.json()
        part = self._store_part(tx, payload)
        if part is None:
            return self._error(422, "Invalid value for parameter: commerce_code or buy_order")
        if part["status"] == "CAPTURED":
            return self._error(422, "The transaction was already captured")
        if part["status"] != "AUTHORIZED":
            return self._error(422, f"Invalid status '{part['status']}' for capture")
        if str(payload.get("authorization_code")) != part["authorization_code"]:
            return self._error(422, "authorization_code does not match")
        amount = self._amount_of(request, "capture_amount")
        if amount is None or amount > part["amount"]:
            return self._error(422, "Invalid value for parameter: capture_amount")
        part.update(status="CAPTURED", captured_amount=amount)
        return Response.json(
            {
                "authorization_code": part["authorization_code"],
                "authorization_date": self._iso_now(),
                "captured_amount": amount,
                "response_code": 0,
            }
        )
