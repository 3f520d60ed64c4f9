"""Caja Vecina: BancoEstado's accepted payments, as the exchange log recorded them,
against the transactions and payments Odoo booked for them.

Here the bank calls Odoo, so "the gateway" is the exchange log
(`payment.cajavecina.exchange`): every `registrarPago` answered as accepted
(result "ok") is a payment the bank collected in cash and will remit. Each must
have its done transaction(s) with a posted payment for the same amount; each done
Caja Vecina transaction must have its accepted call.

One bank payment is one group of transactions sharing the payment key (the
bank's `transaccion`, or the documented fallback key): one transaction, or, in
total-debt mode, one per document, the others keyed `<key>:<document>`. A resend
of the same `transaccion` is answered from the log and recorded as another
accepted exchange pointing at a transaction of the same group: it is the same
payment, never a second one.
"""

from collections import defaultdict
from datetime import datetime, time, timedelta
from decimal import Decimal

from odoo import fields
from odoo.tools import SQL

from ...gateways import cajavecina_const as const
from ..cajavecina_service import FALLBACK_KEY_PREFIX
from .findings import CheckFailed, Finding

POSTED_PAYMENT_STATES = ("in_process", "paid")


def _pesos(value):
    return Decimal(int(round(value or 0)))


def _root_key(tx):
    """The payment key of the bank payment `tx` belongs to (None without one)."""
    key = tx.cajavecina_payment_key
    if not key:
        return None
    if key.startswith(FALLBACK_KEY_PREFIX):
        return key
    return key.split(":", 1)[0]


def _group_transactions(run, root_keys):
    """Every transaction of those bank payments: the keyed one and its siblings."""
    if not root_keys:
        return run.env["payment.transaction"]
    Transaction = run.env["payment.transaction"].sudo()
    Transaction.flush_model(["provider_id", "cajavecina_payment_key"])
    # One query whatever the number of keys: a sibling is `<key>:<document>`.
    run.env.cr.execute(
        SQL(
            """
            SELECT id FROM payment_transaction
             WHERE provider_id = %(provider)s
               AND (cajavecina_payment_key = ANY(%(roots)s)
                    OR (strpos(cajavecina_payment_key, ':') > 0
                        AND split_part(cajavecina_payment_key, ':', 1) = ANY(%(keyed)s)))
             ORDER BY id
            """,
            provider=run.provider_id.id,
            roots=sorted(root_keys),
            keyed=sorted(key for key in root_keys if not key.startswith(FALLBACK_KEY_PREFIX)),
        )
    )
    txs = Transaction.browse([row[0] for row in run.env.cr.fetchall()])
    _fetch(txs, payments=True)
    return txs


def _fetch(txs, payments=False):
    """Load what the check reads of `txs` (and their payments) in one query each,
    instead of one per prefetch batch."""
    txs.fetch(_TX_FIELDS)
    if payments:
        txs.payment_id.fetch(["name", "state", "amount"])


_TX_FIELDS = [
    "reference",
    "state",
    "amount",
    "payment_id",
    "cajavecina_payment_key",
    "latam_date",
]
_EXCHANGE_FIELDS = [
    "amount",
    "bank_transaction",
    "transaction_id",
    "rut",
    "document",
    "create_date",
]


def _check_retention(run):
    """Exchanges older than the provider's retention are deleted: without them every
    payment would look unknown to the bank."""
    days = run.provider_id.cajavecina_log_retention_days
    oldest = fields.Date.context_today(run) - timedelta(days=days - 1)
    if run.date_from < oldest:
        raise CheckFailed(
            run.env._(
                "The Caja Vecina exchange log keeps %(days)s days only: start the range on "
                "%(oldest)s or later.",
                days=days,
                oldest=oldest,
            )
        )


def check(run):
    env = run.env
    provider = run.provider_id
    _check_retention(run)
    Exchange = env["payment.cajavecina.exchange"].sudo()
    accepted = [
        ("provider_id", "=", provider.id),
        ("operation", "=", const.REGISTER),
        ("result", "=", "ok"),
    ]
    start = datetime.combine(run.date_from, time.min)
    end = datetime.combine(run.date_to + timedelta(days=1), time.min)
    exchanges = Exchange.search_fetch(
        [*accepted, ("create_date", ">=", start), ("create_date", "<", end)],
        _EXCHANGE_FIELDS,
        order="id",
    )
    done_txs = run._transactions([("state", "=", "done")])
    _fetch(done_txs | exchanges.transaction_id)

    root_keys = {_root_key(tx) for tx in exchanges.transaction_id | done_txs} - {None}
    group_txs = _group_transactions(run, root_keys)
    # The accepted calls of the range's transactions, whatever their day (a payment
    # booked just after midnight, a resend days later), and the resends of the range's.
    exchanges |= Exchange.search_fetch(
        [*accepted, ("transaction_id", "in", group_txs.ids)], _EXCHANGE_FIELDS
    )

    txs_by_root = defaultdict(lambda: env["payment.transaction"])
    for tx in group_txs:
        txs_by_root[_root_key(tx)] |= tx
    exchanges_by_group = defaultdict(lambda: Exchange)
    for exchange in exchanges.sorted("id"):
        exchanges_by_group[_group_of(exchange)] |= exchange

    findings = []
    seen_txs = set()
    for group, group_exchanges in exchanges_by_group.items():
        kind, value = group
        if kind == "key":
            txs = txs_by_root[value]
        elif kind == "tx":
            txs = group_exchanges.transaction_id
        else:
            txs = env["payment.transaction"]
        seen_txs.update(txs.ids)
        findings.append(_compare(run, group_exchanges, txs))
    for tx in done_txs.filtered(lambda tx: tx.id not in seen_txs):
        findings.append(_unknown_to_bank(run, tx))
    return findings


def _group_of(exchange):
    tx = exchange.transaction_id
    if tx:
        root = _root_key(tx)
        return ("key", root) if root else ("tx", tx.id)
    if exchange.bank_transaction:
        return ("bank", exchange.bank_transaction.strip())
    return ("exchange", exchange.id)


def _main_transaction(txs):
    """The transaction carrying the bank's own key (the first of a total payment)."""
    keyed = txs.filtered(lambda tx: tx.cajavecina_payment_key == _root_key(tx))
    return (keyed or txs)[:1]


def _state_of(tx):
    states = dict(tx._fields["state"]._description_selection(tx.env))
    return states.get(tx.state, tx.state)


def _compare(run, exchanges, txs):
    """One bank payment: its accepted calls (the original, then resends) against its
    transactions and their payments."""
    env = run.env
    original = exchanges[0]
    gateway_amount = _pesos(original.amount)
    resends = len(exchanges) - 1
    gateway_state = env._("accepted")
    if resends:
        gateway_state = env._("accepted, resent %s time(s) and answered from the log", resends)
    values = {
        "gateway_reference": original.bank_transaction or "",
        "gateway_amount": gateway_amount,
        "gateway_state": gateway_state,
        "date": original.create_date.date(),
    }
    if not txs:
        key = (
            f"cb:{original.bank_transaction.strip()}"
            if original.bank_transaction
            else f"exchange:{original.id}"
        )
        return Finding(
            key=key,
            status="missing_odoo",
            explanation=env._(
                "BancoEstado's payment was accepted (RUT %(rut)s, document %(document)s) "
                "but Odoo has no transaction for it.",
                rut=original.rut or "-",
                document=original.document or "-",
            ),
            **values,
        )

    main = _main_transaction(txs)
    odoo_amount = sum((_pesos(tx.amount) for tx in txs), Decimal(0))
    odoo_state = ", ".join(
        f"{tx.reference}: {_state_of(tx)}"
        + (f" / {tx.payment_id.name or ''} {tx.payment_id.state}" if tx.payment_id else "")
        for tx in txs
    )
    values.update(
        key=main.reference,
        transaction_id=main.id,
        reference=main.reference,
        odoo_amount=odoo_amount,
        odoo_state=odoo_state,
    )
    status, explanation = _problem(run, exchanges, txs, gateway_amount, odoo_amount)
    if status is None:
        status = "matched"
        explanation = env._("Accepted by the bank, booked and posted in Odoo.")
        if len(txs) > 1:
            explanation = env._(
                "Accepted by the bank, booked and posted in Odoo (%s documents paid at once).",
                len(txs),
            )
    return Finding(status=status, explanation=explanation, **values)


def _problem(run, exchanges, txs, gateway_amount, odoo_amount):
    """(status, explanation) of the first disagreement, or (None, None)."""
    env = run.env
    not_done = txs.filtered(lambda tx: tx.state != "done")
    if not_done:
        return "state_mismatch", env._(
            "The bank accepted the payment; Odoo holds %(references)s as %(state)s.",
            references=", ".join(not_done.mapped("reference")),
            state=_state_of(not_done[0]),
        )
    unbooked = txs.filtered(lambda tx: not tx.payment_id)
    if unbooked:
        return "missing_odoo", env._(
            "The bank accepted the payment but Odoo booked no payment for %s.",
            ", ".join(unbooked.mapped("reference")),
        )
    unposted = txs.payment_id.filtered(lambda pay: pay.state not in POSTED_PAYMENT_STATES)
    if unposted:
        states = dict(unposted._fields["state"]._description_selection(run.env))
        return "state_mismatch", env._(
            "The bank accepted the payment; Odoo's payment %(payment)s is %(state)s.",
            payment=unposted[0].name or unposted[0].id,
            state=states.get(unposted[0].state, unposted[0].state),
        )
    other_amounts = {_pesos(exchange.amount) for exchange in exchanges} - {odoo_amount}
    if other_amounts:
        return "amount_mismatch", env._(
            "The bank accepted %(bank)s pesos; Odoo's transactions add up to %(odoo)s.",
            bank=", ".join(str(amount) for amount in sorted(other_amounts)),
            odoo=odoo_amount,
        )
    paid = sum((_pesos(pay.amount) for pay in txs.payment_id), Decimal(0))
    if paid != odoo_amount:
        return "amount_mismatch", env._(
            "Odoo's payments add up to %(paid)s pesos; the bank accepted %(bank)s.",
            paid=paid,
            bank=gateway_amount,
        )
    return None, None


def _unknown_to_bank(run, tx):
    env = run.env
    return Finding(
        key=tx.reference,
        status="missing_gateway",
        explanation=env._(
            "Odoo holds this Caja Vecina payment as done but BancoEstado never had a "
            "registrarPago accepted for it (set done by hand?)."
        ),
        transaction_id=tx.id,
        reference=tx.reference,
        gateway_reference=tx.cajavecina_payment_key or "",
        odoo_amount=_pesos(tx.amount),
        odoo_state=_state_of(tx)
        + (f" / {tx.payment_id.name or ''} {tx.payment_id.state}" if tx.payment_id else ""),
        gateway_state=env._("no accepted call"),
        date=tx.latam_date,
    )
