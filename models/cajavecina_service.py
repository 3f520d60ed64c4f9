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
from psycopg2 import errors as pg_errors

from odoo import fields

from ..gateways import cajavecina_const as const
from ..gateways import cajavecina_soap as soap
from ..gateways import rut as rut_rules

_logger = logging.getLogger(__name__)

PROCESS_ROUTE = "/payment/cajavecina/process"

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


def _due_date(provider, tx):
    return (tx.create_date + timedelta(days=provider.cajavecina_due_days)).date()


def payables(provider, clients):
    """What `clients` owe through this provider, oldest due first."""
    env = provider.env
    clp = env.ref("base.CLP")
    open_shop_payments = env["payment.transaction"].search(
        [
            ("provider_id", "=", provider.id),
            ("state", "=", "pending"),
            ("partner_id.commercial_partner_id", "in", clients.ids),
            ("currency_id", "=", clp.id),
        ]
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
        Payable(document_number(tx), tx, _due_date(provider, tx), int(round(tx.amount)))
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
    document, amount and the day in Santiago (a resend the same day is the same payment)."""
    transaction = (parts.get("transaccion") or "").strip()
    if transaction:
        if not _DIGITS.match(transaction) or len(transaction) > 18:
            raise CajaVecinaRefusal(const.SERVICE_PROBLEM, "Número de transacción inválido.")
        return transaction
    today = datetime.now(pytz.timezone(const.SANTIAGO_TZ)).strftime("%Y%m%d")
    return f"sin-transaccion:{compact}:{parts['factura']}:{amount}:{today}"


def _replay(provider, key, compact, document, amount):
    """The original answer of a payment already registered with this key, or None."""
    done = provider.env["payment.transaction"].search(
        [("provider_id", "=", provider.id), ("cajavecina_payment_key", "=", key)], limit=1
    )
    if not done:
        return None
    if (done.cajavecina_rut, done.cajavecina_document, round(done.amount)) != (
        compact,
        document,
        amount,
    ):
        _logger.warning("Caja Vecina: transaction key %s reused with other data", key)
        raise CajaVecinaRefusal(
            const.SERVICE_PROBLEM,
            "La transacción ya fue registrada con otros datos (RUT, factura o monto).",
        )
    return done


def _lock(record):
    """Lock the paid document: a duplicate call waits, then finds it paid (or retries)."""
    if record._name == "payment.transaction":
        record._latam_lock()
    else:
        record.env.cr.execute(
            "SELECT id FROM account_move WHERE id = %s FOR UPDATE",
            [record.id],
            log_exceptions=False,
        )
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
    target = next((d for d in payables(provider, clients) if d.number == document), None)
    if target is None:
        raise CajaVecinaRefusal(
            const.NOTHING_TO_PAY, "No hay factura por pagar con ese número para el RUT indicado."
        )
    _lock(target.record)
    # Re-read under the lock: a concurrent payment may have settled it meanwhile.
    target = next((d for d in payables(provider, clients) if d.number == document), None)
    if target is None:
        raise CajaVecinaRefusal(const.NOTHING_TO_PAY, "La factura ya fue pagada.")
    _check_amount(provider, target, amount)

    tx = _settle(provider, target, amount, parts, compact, key)
    sent_at = datetime.now(pytz.timezone(const.SANTIAGO_TZ)).replace(microsecond=0)
    answer = soap.payment_answer(
        client_id(clients[0]), compact, sent_at.isoformat(), "Pago registrado correctamente"
    )
    tx.cajavecina_answer = soap.answer_to_string(answer)
    info["transaction"] = tx
    return answer, info


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


def _settle(provider, target, amount, parts, compact, key):
    """Mark the payment done and let Odoo book and reconcile it now."""
    env = provider.env
    values = {
        "cajavecina_payment_key": key,
        "cajavecina_rut": compact,
        "cajavecina_document": target.number,
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
    tx.provider_reference = key if not key.startswith("sin-transaccion:") else tx.reference
    tx._set_done()
    _post_process_now(tx)
    return tx


def _post_process_now(tx):
    """Book the payment in this request, so the invoice is paid when the bank hears
    `aceptado`; if that fails, Odoo's post-processing cron books it later."""
    try:
        with tx.env.cr.savepoint():
            tx._post_process()
    except Exception as error:
        if _is_concurrency_error(error):
            raise  # Odoo retries the whole request on a fresh snapshot
        _logger.exception("Caja Vecina: booking %s failed; the cron will retry", tx.reference)
        tx.env.ref("payment.cron_post_process_payment_tx")._trigger()


def _is_concurrency_error(error):
    return isinstance(
        error,
        pg_errors.SerializationFailure | pg_errors.LockNotAvailable | pg_errors.DeadlockDetected,
    )
