"""Webpay's remote check: Transbank's status of each payment of the range against Odoo.

One status call per payment that reached Transbank (Webpay Plus and Mall by
token, Oneclick by buy order), in the environment the addon's own flows use.
Compared: whether money was taken (Odoo done/authorized against AUTHORIZED,
CAPTURED or a nullified balance), the sale's amount in whole pesos, and what
went back (Transbank's `balance` against Odoo's done refunds).

Transbank answers the status only for 7 days after the payment was opened:
an older payment is not asked about and becomes an exception ("no longer
queryable") for a person to compare with Transbank's portal and close.
A call without a usable answer (timeout, 5xx, refused credentials) makes the
payment an exception ("Transbank did not answer"); when no call at all got an
answer, the check fails and the run changes nothing.
"""

import logging
from decimal import Decimal

from odoo import fields

from ...gateways import webpay_const as const
from ...gateways import webpay_rest as rest
from .. import webpay_flow, webpay_oneclick
from .findings import Finding, with_unanswered

_logger = logging.getLogger(__name__)

# Odoo states in which the money was taken (held, for a deferred authorization).
ODOO_PAID_STATES = ("done", "authorized")
# Transbank statuses of a sale that was paid, whatever went back since.
TRANSBANK_PAID_STATUSES = {"AUTHORIZED", "CAPTURED", *const.REFUNDED_STATUSES}


class _NoAnswer(Exception):
    """The status call gave nothing to compare (timeout, 5xx, refused credentials)."""


class _Unknown:
    """Transbank keeps no payable state for the token (HTTP 422: aborted, expired, unknown)."""

    def __init__(self, message):
        self.message = message


def _sales(run):
    """The Webpay sales of the range that reached Transbank, and those refunded in it."""
    txs = run._transactions([("operation", "!=", "refund")])
    refunds = run._transactions([("operation", "=", "refund")])
    sales = txs | refunds.source_transaction_id.filtered(
        lambda tx: tx.provider_id == run.provider_id
    )
    return sales.filtered(_reached_transbank).sorted("id")


def _reached_transbank(tx):
    if tx.webpay_product == "oneclick":
        return bool(tx.webpay_store_buy_order)  # authorized server side, by buy order
    return bool(tx.provider_reference)


def _ask(tx):
    """(status, response_code, amount, balance, authorization_code, buy_order) of the sale
    at Transbank (its store's part for a mall or Oneclick), or an `_Unknown`."""
    try:
        if tx.webpay_product == "oneclick":
            result = webpay_oneclick.client_for(tx.provider_id).mall_status(tx.reference)
        elif webpay_flow.is_mall(tx):
            result = webpay_flow.client_for(tx.provider_id).mall_status(tx.provider_reference)
        else:
            result = webpay_flow.client_for(tx.provider_id).transaction_status(
                tx.provider_reference
            )
    except rest.WebpayRejected as error:
        if error.status_code == 422:
            return _Unknown(error.message)
        raise _NoAnswer(str(error)) from error
    except rest.WebpayUnknownOutcome as error:
        raise _NoAnswer(str(error)) from error
    if tx.webpay_product in ("oneclick", "mall"):
        part = result.detail(tx.webpay_store_code, tx.webpay_store_buy_order)
        if part is None:
            return _Unknown(f"no part of store {tx.webpay_store_code} in the answer")
    else:
        part = result
    return part, result.buy_order


def _refunded_in_odoo(tx):
    return sum(
        round(-child.amount)
        for child in tx.child_transaction_ids
        if child.operation == "refund" and child.state == "done"
    )


def _gateway_kept(part):
    """What Transbank says the merchant keeps of the sale after nullifications."""
    if part.balance is not None:
        return part.balance
    if part.status in ("REVERSED", "NULLIFIED"):
        return 0
    return part.amount


def _finding(tx, status, explanation, **values):
    return Finding(
        key=tx.reference,
        status=status,
        explanation=explanation,
        transaction_id=tx.id,
        reference=tx.reference,
        odoo_amount=Decimal(round(tx.amount) - _refunded_in_odoo(tx)),
        odoo_state=tx.state,
        date=tx.latam_date,
        **values,
    )


def _compare(env, tx, answer):
    if isinstance(answer, _Unknown):
        gateway = {"gateway_reference": tx.provider_reference or "", "gateway_state": "unknown"}
        if tx.state in ODOO_PAID_STATES:
            return _finding(
                tx,
                "missing_gateway",
                env._(
                    "Transbank holds no paid transaction for this payment (%(reason)s).",
                    reason=answer.message,
                ),
                **gateway,
            )
        return _finding(
            tx, "matched", env._("Not completed at Transbank; nothing was charged."), **gateway
        )
    part, buy_order = answer
    sale = round(tx.amount)
    kept = _gateway_kept(part)
    values = {
        "gateway_reference": part.authorization_code or tx.provider_reference or "",
        "gateway_amount": Decimal(kept) if kept is not None else None,
        "gateway_state": part.status
        + (f" ({part.response_code})" if part.response_code not in (None, 0) else ""),
    }
    if buy_order and buy_order != tx.reference:
        return _finding(
            tx,
            "state_mismatch",
            env._("Transbank's answer is about buy order %(order)s.", order=buy_order),
            **values,
        )
    gateway_paid = part.status in TRANSBANK_PAID_STATUSES and part.response_code in (None, 0)
    odoo_paid = tx.state in ODOO_PAID_STATES
    if not gateway_paid:
        if odoo_paid:
            return _finding(
                tx,
                "state_mismatch",
                env._(
                    "Odoo has it %(state)s; Transbank did not authorize it (%(status)s).",
                    state=tx.state,
                    status=values["gateway_state"],
                ),
                **values,
            )
        return _finding(tx, "matched", env._("Not paid on either side."), **values)
    if not odoo_paid:
        if kept == 0:  # a released authorization, or a sale given back in full
            return _finding(
                tx, "matched", env._("Nothing kept on either side (%s).", part.status), **values
            )
        return _finding(
            tx,
            "state_mismatch",
            env._(
                "Transbank took %(amount)s pesos (%(status)s); Odoo has it %(state)s.",
                amount=kept,
                status=part.status,
                state=tx.state,
            ),
            **values,
        )
    if part.amount != sale:
        return _finding(
            tx,
            "amount_mismatch",
            env._(
                "Transbank has the sale for %(gateway)s pesos, Odoo for %(odoo)s.",
                gateway=part.amount,
                odoo=sale,
            ),
            **values,
        )
    if tx.webpay_capture_deferred and tx.state == "done" and part.status == "AUTHORIZED":
        return _finding(
            tx,
            "state_mismatch",
            env._("Odoo has it captured; Transbank holds only the authorization."),
            **values,
        )
    if tx.state == "authorized" and part.status == const.CAPTURED_STATUS:
        return _finding(
            tx,
            "state_mismatch",
            env._("Transbank captured it; Odoo holds only the authorization."),
            **values,
        )
    gateway_refunded = part.amount - kept
    odoo_refunded = _refunded_in_odoo(tx)
    if gateway_refunded != odoo_refunded:
        if not odoo_refunded:
            explanation = env._(
                "Transbank gave back %(amount)s pesos (%(status)s); Odoo records no refund.",
                amount=gateway_refunded,
                status=part.status,
            )
        elif not gateway_refunded:
            explanation = env._(
                "Odoo records refunds of %(amount)s pesos; Transbank shows none.",
                amount=odoo_refunded,
            )
        else:
            explanation = env._(
                "Transbank gave back %(gateway)s pesos, Odoo's refunds are %(odoo)s.",
                gateway=gateway_refunded,
                odoo=odoo_refunded,
            )
            return _finding(tx, "amount_mismatch", explanation, **values)
        return _finding(tx, "state_mismatch", explanation, **values)
    return _finding(tx, "matched", "", **values)


def _soap_finding(env, tx):
    """Transbank's SOAP API has no status query: nothing to ask, only what Odoo read."""
    gateway = {"gateway_reference": tx.provider_reference or "", "gateway_state": "not asked"}
    if tx.webpay_pending_operation in ("acknowledge", "result"):
        return _finding(
            tx,
            "state_mismatch",
            env._(
                "Transbank did not confirm our acknowledgement, or did not give the result "
                "(SOAP): it kept or reversed this payment. Compare it with Transbank's portal, "
                "then resolve this."
            ),
            **gateway,
        )
    return _finding(
        tx,
        "unverified",
        env._(
            "SOAP API, which has no status query: Odoo's state comes from Transbank's signed "
            "result, read once and acknowledged."
        ),
        **gateway,
    )


def check(run):
    env = run.env
    too_old = fields.Datetime.now() - webpay_flow.STATUS_WINDOW
    findings, asked, unanswered = [], 0, []
    for tx in _sales(run):
        if tx.webpay_api == "soap":
            findings.append(_soap_finding(env, tx))
            continue
        if tx.create_date < too_old and tx.state not in ODOO_PAID_STATES:
            # Transbank reverses a sale nobody committed: an old unpaid one took nothing.
            findings.append(
                _finding(
                    tx,
                    "unverified",
                    env._(
                        "Not paid in Odoo; too old to ask Transbank, which keeps no "
                        "uncommitted sale."
                    ),
                    gateway_reference=tx.provider_reference or tx.webpay_store_buy_order or "",
                    gateway_state="not asked",
                )
            )
            continue
        if tx.create_date < too_old:
            findings.append(
                _finding(
                    tx,
                    "missing_gateway",
                    env._(
                        "No longer queryable: Transbank answers the status only for 7 days. "
                        "Compare it with Transbank's portal, then resolve this."
                    ),
                    gateway_reference=tx.provider_reference or tx.webpay_store_buy_order or "",
                    gateway_state="not asked",
                )
            )
            continue
        asked += 1
        try:
            answer = _ask(tx)
        except _NoAnswer as error:
            _logger.warning("Reconciliation: Transbank's status of %s: %s", tx.reference, error)
            unanswered.append((tx, str(error)))
            continue
        findings.append(_compare(env, tx, answer))
    return with_unanswered(
        findings,
        asked,
        unanswered,
        nothing_answered=lambda reason: env._(
            "Transbank did not answer any status call (%(reason)s). Nothing was compared; "
            "run it again later.",
            reason=reason,
        ),
        not_answered=lambda tx, reason: _finding(
            tx,
            "missing_gateway",
            env._("Transbank did not answer (%(reason)s); run it again.", reason=reason),
            gateway_reference=tx.provider_reference or "",
            gateway_state="no answer",
        ),
    )
