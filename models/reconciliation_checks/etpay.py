"""ETpay's remote check: the payments ETpay lists for each session of the range.

One `check_payment_status` call per transaction that opened a session, in the
environment (sandbox or production) the session was opened in, keyed by its
session token and order. Compared: a successful transfer against Odoo's
done, and its amount when ETpay's answer carries one. ETpay has no refunds
through its API, so there is nothing else to compare.

ETpay publishes no limit on how long it answers the status: every payment is
asked, whatever its age. A call without a usable answer (timeout, 5xx, a
refusal) makes the payment an exception ("ETpay did not answer"); when no call
at all got an answer, the check fails and the run changes nothing.
"""

import logging
from decimal import Decimal

from ...gateways import etpay_api as api
from ...gateways import etpay_const as const
from .. import etpay_flow
from .findings import Finding, with_unanswered

_logger = logging.getLogger(__name__)


def _finding(tx, status, explanation, payment=None, **values):
    if payment is not None:
        values.setdefault("gateway_reference", payment.payment_token)
        values.setdefault("gateway_state", payment.payment_status)
        if payment.amount is not None:
            values.setdefault("gateway_amount", Decimal(payment.amount))
    return Finding(
        key=tx.reference,
        status=status,
        explanation=explanation,
        transaction_id=tx.id,
        reference=tx.reference,
        odoo_amount=Decimal(round(tx.amount)),
        odoo_state=tx.state,
        date=tx.latam_date,
        **values,
    )


def _compare(env, tx, payments):
    ours = api.payment_for_session(payments, tx.provider_reference, tx.reference)
    paid = [payment for payment in ours if payment.outcome == const.OUTCOME_DONE]
    if len(paid) > 1:
        return _finding(
            tx,
            "state_mismatch",
            env._(
                "ETpay lists %(count)s successful transfers for this payment: one is to give back.",
                count=len(paid),
            ),
            paid[0],
        )
    if tx.state == "done":
        if not ours:
            return _finding(
                tx,
                "missing_gateway",
                env._("Odoo has it done; ETpay lists no payment for its session."),
                gateway_reference=tx.etpay_payment_token or "",
                gateway_state="none",
            )
        if not paid:
            last = ours[-1]
            return _finding(
                tx,
                "state_mismatch",
                env._(
                    "Odoo has it done; ETpay says %(status)s.", status=last.payment_status or "?"
                ),
                last,
            )
        payment = paid[0]
        if payment.amount is not None and payment.amount != round(tx.amount):
            return _finding(
                tx,
                "amount_mismatch",
                env._(
                    "ETpay's transfer is of %(gateway)s pesos, Odoo's payment of %(odoo)s.",
                    gateway=payment.amount,
                    odoo=round(tx.amount),
                ),
                payment,
            )
        if tx.etpay_payment_token and payment.payment_token != tx.etpay_payment_token:
            return _finding(
                tx,
                "state_mismatch",
                env._("ETpay's successful transfer is not the one Odoo recorded."),
                payment,
            )
        return _finding(tx, "matched", "", payment)
    if paid:
        return _finding(
            tx,
            "state_mismatch",
            env._(
                "ETpay lists a successful transfer; Odoo has the payment %(state)s.",
                state=tx.state,
            ),
            paid[0],
        )
    last = ours[-1] if ours else None
    unsettled = last is not None and last.outcome == const.OUTCOME_UNKNOWN
    if unsettled and tx.state in ("cancel", "error"):
        return _finding(
            tx,
            "state_mismatch",
            env._(
                "ETpay has not settled the transfer (%(status)s); Odoo closed the payment as "
                "%(state)s.",
                status=last.payment_status or "?",
                state=tx.state,
            ),
            last,
        )
    return _finding(
        tx,
        "matched",
        env._("No transfer on either side."),
        last,
        **({} if last else {"gateway_state": "none"}),
    )


def check(run):
    env = run.env
    txs = run._transactions([("provider_reference", "!=", False)])
    findings, unanswered = [], []
    for tx in txs:
        try:
            payments = etpay_flow.tx_client(tx).payment_status(
                session_token=tx.provider_reference, order_id=tx.reference
            )
        except (api.EtpayUnknownOutcome, api.EtpayRejected) as error:
            _logger.warning("Reconciliation: ETpay's status of %s: %s", tx.reference, error)
            # ETpay's own text stays in the log: a refusal may echo what we sent.
            reason = (
                f"HTTP {error.status_code}" if isinstance(error, api.EtpayRejected) else str(error)
            )
            unanswered.append((tx, reason))
            continue
        findings.append(_compare(env, tx, payments))
    return with_unanswered(
        findings,
        len(txs),
        unanswered,
        nothing_answered=lambda reason: env._(
            "ETpay did not answer any status call (%(reason)s). Nothing was compared; "
            "run it again later.",
            reason=reason,
        ),
        not_answered=lambda tx, reason: _finding(
            tx,
            "missing_gateway",
            env._("ETpay did not answer (%(reason)s); run it again.", reason=reason),
            gateway_state="no answer",
        ),
    )
