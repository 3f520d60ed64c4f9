"""Caja Vecina's two operations on Odoo's data: what a RUT owes, and a cash payment.

BancoEstado asks `consultarCliente(rutCliente)` and sends `registrarPago(...)`;
these functions answer with a RESPUESTA element (`gateways.cajavecina_soap`)
and a summary for the exchange log. Payments become standard `payment.transaction`s
set done and post-processed, so Odoo books and reconciles the `account.payment`.
"""

import logging
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pytz

from odoo import fields

from ..gateways import cajavecina_const as const
from ..gateways import cajavecina_soap as soap
from ..gateways import rut as rut_rules

_logger = logging.getLogger(__name__)

PROCESS_ROUTE = "/payment/cajavecina/process"
FALLBACK_KEY_PREFIX = "sin-transaccion:"
_TOUCH_TX = "UPDATE payment_transaction SET write_date = write_date WHERE id = %s"
_TOUCH_INVOICE = "UPDATE account_move SET write_date = write_date WHERE id = %s"

_AMOUNT = re.compile(r"^\d{1,18}(\.0{1,2})?$")
_DIGITS = re.compile(r"^\d+$")


class CajaVecinaRefusal(Exception):
    """An operation refused with one of the spec's codes; nothing was written."""

    def __init__(self, code, description):
        super().__init__(description)
        self.code = code
        self.description = description


@dataclass
class Payable:
    """Something a RUT owes: a posted customer invoice or a pending shop payment."""

    number: str
    record: object  # account.move or payment.transaction
    due: date
    residual: int


def client_id(partner):
    return str(partner.id).zfill(const.CLIENT_ID_WIDTH)


def document_number(record):
    if record._name == "payment.transaction":
        return str(const.TRANSACTION_DOCUMENT_OFFSET + record.id).zfill(const.DOCUMENT_WIDTH)
    return str(record.id).zfill(const.DOCUMENT_WIDTH)


def _checked_rut(text):
    compact = rut_rules.normalize(text)
    if not compact:
        raise CajaVecinaRefusal(
            const.UNKNOWN_RUT, "RUT inválido: el dígito verificador no corresponde."
        )
    return compact


def find_clients(env, compact_rut):
    """The commercial partners carrying this RUT (several contacts may share it)."""
    partners = (
        env["res.partner"].with_context(active_test=False).search([("latam_rut", "=", compact_rut)])
    )
    clients = partners.commercial_partner_id.sorted("id")
    if not clients:
        raise CajaVecinaRefusal(const.UNKNOWN_RUT, "No existe ningún cliente con el RUT indicado.")
    return clients


def due_date(provider, create_date):
    """The day a shop order paid in cash is due, counted in Santiago."""
    local = pytz.utc.localize(create_date).astimezone(pytz.timezone(const.SANTIAGO_TZ))
    return (local + timedelta(days=provider.cajavecina_due_days)).date()


def _still_wanted(tx):
    """A pending cash payment is offered only while its order still waits for it:
    not cancelled, not paid by another payment meanwhile."""
    orders = getattr(tx, "sale_order_ids", None)
    if not orders:
        return True
    if all(order.state == "cancel" for order in orders):
        return False
    paid_elsewhere = orders.transaction_ids.filtered(lambda other: other.state == "done")
    return not paid_elsewhere


def payables(provider, clients):
    """What `clients` owe through this provider, oldest due first."""
    env = provider.env
    clp = env.ref("base.CLP")
    open_shop_payments = (
        env["payment.transaction"]
        .search(
            [
                ("provider_id", "=", provider.id),
                ("state", "=", "pending"),
                ("partner_id.commercial_partner_id", "in", clients.ids),
                ("currency_id", "=", clp.id),
            ]
        )
        .filtered(_still_wanted)
    )
    invoices = env["account.move"].search(
        [
            ("move_type", "=", "out_invoice"),
            ("state", "=", "posted"),
            ("commercial_partner_id", "in", clients.ids),
            ("payment_state", "in", ("not_paid", "partial")),
            ("amount_residual", ">", 0),
            ("currency_id", "=", clp.id),
            ("company_id", "=", provider.company_id.id),
        ]
    )
    # An invoice of an order already waiting for cash is that shop payment: listing
    # both would let the same debt be paid twice.
    invoices -= open_shop_payments.invoice_ids
    invoices = invoices.filtered(lambda move: not (move.transaction_ids & open_shop_payments))
    documents = [
        Payable(
            document_number(invoice),
            invoice,
            invoice.invoice_date_due or invoice.invoice_date,
            int(round(invoice.amount_residual)),
        )
        for invoice in invoices
    ] + [
        Payable(document_number(tx), tx, tx.cajavecina_due_date, int(round(tx.amount)))
        for tx in open_shop_payments
    ]
    return sorted(documents, key=lambda document: (document.due, document.number))


def consult(provider, parts):
    """`consultarCliente`: the oldest document, or the total debt (a provider setting)."""
    compact = _checked_rut(parts.get("rutCliente"))
    clients = find_clients(provider.env, compact)
    documents = payables(provider, clients)
    if not documents:
        raise CajaVecinaRefusal(const.NOTHING_TO_PAY, "No hay factura por pagar.")
    if provider.cajavecina_debt_mode == const.DEBT_TOTAL:
        total = sum(document.residual for document in documents)
    else:
        total = documents[0].residual
    answer = soap.client_answer(client_id(clients[0]), compact, documents[0].due.isoformat(), total)
    return answer, {"rut": compact, "amount": total, "document": documents[0].number}


def _parse_amount(text):
    if not text or not _AMOUNT.match(text):
        raise CajaVecinaRefusal(
            const.SERVICE_PROBLEM, "Monto inválido: se espera un número entero de pesos."
        )
    amount = int(text.split(".")[0])
    if amount <= 0:
        raise CajaVecinaRefusal(const.SERVICE_PROBLEM, "Monto inválido: debe ser positivo.")
    return amount


def _payment_key(parts, compact, amount):
    """The bank's `transaccion`, or a documented fallback when it sends none: RUT,
    document, amount and the day in Santiago (a resend the same day is the same
    payment). The fallback is only used where it cannot merge two real payments:
    see `_check_fallback`."""
    transaction = (parts.get("transaccion") or "").strip()
    if transaction:
        if not _DIGITS.match(transaction) or len(transaction) > 18:
            raise CajaVecinaRefusal(const.SERVICE_PROBLEM, "Número de transacción inválido.")
        return transaction
    today = datetime.now(pytz.timezone(const.SANTIAGO_TZ)).strftime("%Y%m%d")
    return f"{FALLBACK_KEY_PREFIX}{compact}:{parts['factura']}:{amount}:{today}"


def _check_fallback(key, target, document, amount):
    """Without `transaccion`, two equal payments the same day would share a key: only
    a full payment of the document named by its own number may go without one."""
    if not key.startswith(FALLBACK_KEY_PREFIX):
        return
    if target.number != document or amount != target.residual:
        raise CajaVecinaRefusal(
            const.SERVICE_PROBLEM,
            "Este pago requiere el número de transacción (transaccion).",
        )


def _replay(provider, key, compact, document, amount):
    """The original answer of a payment already registered with this key, or None."""
    booked = provider.env["payment.transaction"].search(
        [
            ("provider_id", "=", provider.id),
            "|",
            ("cajavecina_payment_key", "=", key),
            ("cajavecina_payment_key", "=like", f"{key}:%"),  # the rest of a total payment
        ],
        order="id",
    )
    if not booked:
        return None
    first = booked[0]
    if (first.cajavecina_rut, first.cajavecina_document, round(sum(booked.mapped("amount")))) != (
        compact,
        document,
        amount,
    ):
        _logger.warning("Caja Vecina: transaction key %s reused with other data", key)
        raise CajaVecinaRefusal(
            const.SERVICE_PROBLEM,
            "La transacción ya fue registrada con otros datos (RUT, factura o monto).",
        )
    return first


def _lock(record):
    """Lock the document being paid, and touch its row.

    A concurrent call for the same document waits here; once this one commits,
    PostgreSQL refuses it a row that changed under its snapshot (a serialization
    failure: Odoo's transactions are REPEATABLE READ) and Odoo retries it on a
    fresh one, where it sees the payment. The touch makes that true even when
    booking would not rewrite the row itself, and it means that what the caller
    read before locking is still current once it holds the lock: no re-read.
    """
    query = _TOUCH_TX if record._name == "payment.transaction" else _TOUCH_INVOICE
    record.env.cr.execute(query, [record.id], log_exceptions=False)
    record.invalidate_recordset()


def register(provider, parts):
    """`registrarPago`: pay one document of that RUT, once per bank transaction."""
    compact = _checked_rut(parts.get("rutCliente"))
    document = (parts.get("factura") or "").strip()
    if not _DIGITS.match(document) or len(document) > const.DOCUMENT_WIDTH:
        raise CajaVecinaRefusal(const.SERVICE_PROBLEM, "Número de factura inválido.")
    document = document.zfill(const.DOCUMENT_WIDTH)
    amount = _parse_amount((parts.get("monto") or "").strip())
    key = _payment_key(parts, compact, amount)
    info = {"rut": compact, "document": document, "amount": amount, "key": key}

    replayed = _replay(provider, key, compact, document, amount)
    if replayed:
        info["transaction"] = replayed
        return soap.answer_from_string(replayed.cajavecina_answer), info

    clients = find_clients(provider.env, compact)
    documents = payables(provider, clients)
    if _pays_total_debt(provider, clients, documents, document):
        return _register_total(provider, clients, documents, parts, compact, amount, key, info)
    target = _target(provider, clients, documents, document)
    _lock(target.record)  # from here on, what `documents` says of it is current
    _check_amount(provider, target, amount)
    _check_fallback(key, target, document, amount)

    tx = _settle(provider, target, amount, parts, compact, key, document)
    answer = _accepted(clients, compact)
    tx.cajavecina_answer = soap.answer_to_string(answer)
    info["transaction"] = tx
    return answer, info


def _pays_total_debt(provider, clients, documents, document):
    """In total-debt mode, a bank sending back the ID_CLIENTE pays everything it was
    told (when the provider accepts the client id as factura)."""
    return (
        provider.cajavecina_client_id_as_document
        and provider.cajavecina_debt_mode == const.DEBT_TOTAL
        and int(document) == clients[0].id
        and not any(d.number == document for d in documents)
    )


def _register_total(provider, clients, documents, parts, compact, amount, key, info):
    """Pay every open document of the RUT at once: the TOTAL the consult gave."""
    if key.startswith(FALLBACK_KEY_PREFIX):
        raise CajaVecinaRefusal(
            const.SERVICE_PROBLEM, "Este pago requiere el número de transacción (transaccion)."
        )
    # Always the same order: two calls locking the same documents cannot deadlock.
    for payable in sorted(documents, key=lambda d: (d.record._name, d.record.id)):
        _lock(payable.record)
    if not documents:
        raise CajaVecinaRefusal(const.NOTHING_TO_PAY, "No hay factura por pagar.")
    total = sum(payable.residual for payable in documents)
    if amount != total:
        raise CajaVecinaRefusal(
            const.SERVICE_PROBLEM, f"El monto no corresponde a la deuda total ({total})."
        )
    txs = [
        # One transaction per document; the first carries the bank's key, the others
        # the key and their number (the key is unique per provider).
        _settle(
            provider,
            payable,
            payable.residual,
            parts,
            compact,
            key if index == 0 else f"{key}:{payable.number}",
            info["document"],
        )
        for index, payable in enumerate(documents)
    ]
    answer = _accepted(clients, compact)
    txs[0].cajavecina_answer = soap.answer_to_string(answer)
    info["transaction"] = txs[0]
    return answer, info


def _accepted(clients, compact):
    sent_at = datetime.now(pytz.timezone(const.SANTIAGO_TZ)).replace(microsecond=0)
    return soap.payment_answer(
        client_id(clients[0]), compact, sent_at.isoformat(), "Pago registrado correctamente"
    )


def _target(provider, clients, documents, document):
    """The open document `factura` names for these clients.

    The consult answer carries no invoice number, so a bank may send back the
    ID_CLIENTE it was given: when the provider says so (and offers the oldest
    document), that pays the document the consult offered. Open question to
    BancoEstado; partner and invoice ids share one number space, hence off by default.
    """
    target = next((d for d in documents if d.number == document), None)
    offered = (
        provider.cajavecina_client_id_as_document
        and provider.cajavecina_debt_mode == const.DEBT_OLDEST
        and documents
        and int(document) == clients[0].id
    )
    if target is None and offered:
        target = documents[0]
    if target is None:
        raise CajaVecinaRefusal(
            const.NOTHING_TO_PAY, "No hay factura por pagar con ese número para el RUT indicado."
        )
    return target


def _check_amount(provider, target, amount):
    if amount > target.residual:
        raise CajaVecinaRefusal(
            const.SERVICE_PROBLEM,
            f"El monto excede el saldo de la factura ({target.residual}): no se aceptan "
            "pagos en exceso.",
        )
    partial_allowed = (
        provider.cajavecina_amount_policy == const.AMOUNT_PARTIAL
        and target.record._name == "account.move"
    )
    if amount < target.residual and not partial_allowed:
        raise CajaVecinaRefusal(
            const.SERVICE_PROBLEM,
            f"El monto no corresponde al saldo de la factura ({target.residual}).",
        )


def _settle(provider, target, amount, parts, compact, key, document):
    """Mark the payment done and let Odoo book and reconcile it now."""
    env = provider.env
    values = {
        "cajavecina_payment_key": key,
        "cajavecina_rut": compact,
        "cajavecina_document": document,  # as the bank sent it: a resend is compared to it
        "cajavecina_channel": (parts.get("pasarela") or "")[:18],
        "cajavecina_note": (parts.get("descripcion") or "")[:100],
        "cajavecina_paid_at": fields.Datetime.now(),
    }
    if target.record._name == "payment.transaction":
        tx = target.record
        tx.write(values)
    else:
        invoice = target.record
        tx = env["payment.transaction"].create(
            {
                "provider_id": provider.id,
                "payment_method_id": env.ref("payment_latam.payment_method_cajavecina").id,
                "reference": env["payment.transaction"]._compute_reference(
                    provider.code, invoice_ids=[(6, 0, invoice.ids)]
                ),
                "amount": amount,
                "currency_id": invoice.currency_id.id,
                "partner_id": invoice.partner_id.id,
                "invoice_ids": [(6, 0, invoice.ids)],
                "operation": "offline",
                **values,
            }
        )
    tx.provider_reference = tx.reference if key.startswith(FALLBACK_KEY_PREFIX) else key
    tx._set_done()
    _post_process_now(tx)
    return tx


def _post_process_now(tx):
    """Book the payment in this request: the bank hears `aceptado` only once Odoo has
    posted and reconciled it. A failure rolls everything back (the caller answers
    code 1), so a payment is never accepted without being booked."""
    tx._post_process()
    if tx.state == "done" and tx.operation != "validation" and not tx.payment_id:
        raise RuntimeError(f"no payment booked for {tx.reference}")


def cancel_overdue(tx_model):
    """Cron: cancel pending cash payments a day past their due date, or no longer wanted."""
    env = tx_model.env
    today = datetime.now(pytz.timezone(const.SANTIAGO_TZ)).date()
    pending = tx_model.search([("provider_code", "=", "cajavecina"), ("state", "=", "pending")])
    expired = pending.filtered(
        lambda tx: tx.cajavecina_due_date < today - timedelta(days=1) or not _still_wanted(tx)
    )
    for tx in expired:
        if tx._latam_lock(wait=False) and tx.state == "pending":
            tx._set_canceled(env._("Not paid at a Caja Vecina in time: the payment was cancelled."))
    return expired
