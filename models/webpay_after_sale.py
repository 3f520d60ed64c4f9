"""Webpay after the sale: refunds, deferred capture and void.

Transbank alone decides whether a refund is a reversal or a nullification: we
record what it answers. A call whose answer was lost may have moved money, so
it is never repeated blindly: Transbank's status settles it.
"""

import logging
from datetime import timedelta

from odoo import fields
from odoo.exceptions import UserError

from ..gateways import webpay_const as const
from ..gateways import webpay_rest as rest
from . import webpay_oneclick
from .webpay_flow import client_for, is_mall, transbank_datetime

_logger = logging.getLogger(__name__)


def _refund_call(tx, amount):
    """Refund `amount` of `tx` the way its Webpay product does."""
    if tx.webpay_product == "oneclick":
        return webpay_oneclick.refund(tx, amount)
    client = client_for(tx.provider_id)
    if is_mall(tx):
        return client.refund_store(
            tx.provider_reference, tx.webpay_store_code, tx.webpay_store_buy_order, amount
        )
    return client.refund_transaction(tx.provider_reference, amount)


def sale_status(tx):
    """(status, balance) Transbank reports for `tx`'s sale (its store's part in a mall)."""
    if tx.webpay_product == "oneclick":
        return webpay_oneclick.refund_status(tx)
    if tx.webpay_api == "soap":
        raise rest.WebpayUnknownOutcome("Transbank's SOAP API has no status query")
    client = client_for(tx.provider_id)
    if is_mall(tx):
        result = client.mall_status(tx.provider_reference)
        detail = result.detail(tx.webpay_store_code, tx.webpay_store_buy_order)
        if not detail:
            raise rest.WebpayUnknownOutcome("the store's detail is missing from the status")
        return detail.status, detail.balance
    result = client.transaction_status(tx.provider_reference)
    return result.status, result.balance


def _soap(tx):
    """The SOAP after-sale module when `tx` (a sale) went over Transbank's SOAP API.

    Its payments are followed up over SOAP only: REST's calls and status would
    carry a SOAP token."""
    if tx.webpay_api != "soap":
        return None
    from . import webpay_soap_after_sale  # here: it builds on this module

    return webpay_soap_after_sale


def _trigger_post_processing(env):
    env.ref("payment.cron_post_process_payment_tx")._trigger()


def _refused(tx, operation, error):
    _logger.warning("Webpay refused the %s of %s: %s", operation, tx.reference, error)
    return UserError(
        tx.env._(
            "Transbank refused this operation on %(reference)s: %(reason)s. Nothing was changed.",
            reference=tx.reference,
            reason=getattr(error, "message", str(error)),
        )
    )


# === Refunds === #


def refund(source_tx, refund_tx):
    """Ask Transbank to give back `refund_tx`'s amount of `source_tx`."""
    if soap := _soap(source_tx):
        return soap.refund(source_tx, refund_tx)
    # One refund of a sale at a time: Transbank checks each against the balance left.
    source_tx._latam_lock()
    _settle_unconfirmed_refunds(source_tx, refund_tx)
    amount = -refund_tx.amount
    try:
        result = _refund_call(source_tx, amount)
    except rest.WebpayRejected as error:
        raise _refused(source_tx, "refund", error) from error
    except rest.WebpayUnknownOutcome as error:
        _logger.warning("Webpay: refund %s has an unknown outcome: %s", refund_tx.reference, error)
        refund_tx._set_pending(
            source_tx.env._(
                "Transbank has not confirmed this refund yet; Odoo is checking with Transbank. "
                "Do not refund again until it is settled."
            )
        )
        return
    if not result.accepted:
        raise _refused(source_tx, "refund", f"response code {result.response_code}")
    if (result.type == const.REFUND_REVERSED and not is_whole_rest(source_tx, refund_tx)) or (
        result.type == const.REFUND_NULLIFIED and result.nullified_amount != round(amount)
    ):
        _logger.warning(
            "Webpay: refund %s nullified %s instead of %s",
            refund_tx.reference,
            result.nullified_amount,
            amount,
        )
        _record_refund(source_tx, refund_tx, result.type, result)
        refund_tx._set_error(
            source_tx.env._(
                "Transbank gave back a different amount than asked. Review this refund with "
                "Transbank before doing anything else."
            )
        )
        return
    _record_refund(source_tx, refund_tx, result.type, result)
    refund_tx._set_done(_refund_message(refund_tx))
    _trigger_post_processing(source_tx.env)


def _refunds(source_tx, state):
    return source_tx.child_transaction_ids.filtered(
        lambda tx: tx.operation == "refund" and tx.state == state
    )


def refunded_before(source_tx, refund_tx):
    """What the done refunds of `source_tx`, other than `refund_tx`, gave back."""
    return sum(-tx.amount for tx in _refunds(source_tx, "done") - refund_tx)


def is_whole_rest(source_tx, refund_tx):
    """Whether `refund_tx` gives back all that the done refunds left of the sale."""
    rest_of_sale = round(source_tx.amount) - round(refunded_before(source_tx, refund_tx))
    return round(-refund_tx.amount) == rest_of_sale


def _settle_unconfirmed_refunds(source_tx, refund_tx, settle=None):
    """Refuse a new refund while an earlier one's outcome is unknown: it may have
    given the money back already, and Odoo does not count it yet. `settle` is the
    API's way of settling one (REST's status by default)."""
    for pending in _refunds(source_tx, "pending") - refund_tx:
        (settle or settle_refund)(pending)
        if pending.state == "pending":
            raise UserError(
                source_tx.env._(
                    "An earlier refund of %(reference)s is not confirmed by Transbank: %(detail)s",
                    reference=source_tx.reference,
                    detail=pending.state_message or "",
                )
            )


def _record_refund(source_tx, refund_tx, refund_type, result=None):
    balance = 0 if refund_type == const.REFUND_REVERSED else None
    values = {"webpay_refund_type": refund_type}
    if result is not None and refund_type == const.REFUND_NULLIFIED:
        balance = result.balance
        values.update(
            webpay_authorization_code=result.authorization_code,
            webpay_transaction_date=transbank_datetime(result.authorization_date),
        )
    if balance is not None:
        values["webpay_balance"] = balance
    refund_tx.write(values)
    if refund_type == const.REFUND_REVERSED:
        source_tx.webpay_status = "REVERSED"
    elif balance is not None:
        source_tx.webpay_status = "NULLIFIED" if balance == 0 else "PARTIALLY_NULLIFIED"


def _refund_message(refund_tx):
    if refund_tx.webpay_refund_type == const.REFUND_REVERSED:
        return refund_tx.env._("Transbank reversed the payment: the whole amount went back.")
    return refund_tx.env._(
        "Transbank nullified the amount (authorization %(code)s); %(balance)s pesos remain "
        "on the payment.",
        code=refund_tx.webpay_authorization_code,
        balance=refund_tx.webpay_balance,
    )


def settle_refund(refund_tx):
    """Settle a refund whose answer was lost, from what Transbank's status shows."""
    source_tx = refund_tx.source_transaction_id
    try:
        status, balance = sale_status(source_tx)
    except rest.WebpayError as error:
        _logger.warning("Webpay: status for refund %s unknown: %s", refund_tx.reference, error)
        return
    if status == "REVERSED":
        refunded = round(source_tx.amount)
    elif balance is not None:
        refunded = round(source_tx.amount) - balance
    else:
        refunded = 0
    if refunded - refunded_before(source_tx, refund_tx) >= -refund_tx.amount:
        refund_type = const.REFUND_REVERSED if status == "REVERSED" else const.REFUND_NULLIFIED
        refund_tx.write({"webpay_refund_type": refund_type, "webpay_balance": balance or 0})
        source_tx.webpay_status = status
        refund_tx._set_done(_refund_message(refund_tx))
        _trigger_post_processing(refund_tx.env)
        return
    too_old = fields.Datetime.now() - timedelta(minutes=const.REFUND_SETTLE_MINUTES)
    if refund_tx.create_date <= too_old:
        refund_tx._set_canceled(
            refund_tx.env._(
                "Transbank did not register this refund: no money went back. You may refund again."
            )
        )


# === Deferred capture and void === #


def _settle_unconfirmed_operation(tx):
    """Before a capture or void: an earlier one whose answer was lost is settled
    first, never sent again blindly. True if `tx` is no longer authorized."""
    if not tx.webpay_pending_operation:
        return False
    if settle_operation(tx):
        return True
    if tx.webpay_pending_operation:
        raise UserError(
            tx.env._(
                "Transbank has not confirmed the last capture or void of %(reference)s yet. "
                "Odoo is checking; try again once it is settled.",
                reference=tx.reference,
            )
        )
    return False


def capture(tx):
    """Capture the whole of a deferred Webpay authorization."""
    if soap := _soap(tx):
        return soap.capture(tx)
    tx._latam_lock()
    if tx.state != "authorized" or _settle_unconfirmed_operation(tx):
        return
    client = client_for(tx.provider_id)
    try:
        if is_mall(tx):
            result = client.capture_store(
                tx.provider_reference,
                tx.webpay_store_code,
                tx.webpay_store_buy_order,
                tx.webpay_authorization_code,
                tx.amount,
            )
        else:
            result = client.capture_transaction(
                tx.provider_reference, tx.reference, tx.webpay_authorization_code, tx.amount
            )
    except rest.WebpayRejected as error:
        # Maybe captured already, by a call whose answer was lost.
        if settle_operation(tx):
            return
        raise _refused(tx, "capture", error) from error
    except rest.WebpayUnknownOutcome as error:
        _mark_unknown(tx, "capture", error)
        return
    if not result.accepted:
        raise _refused(tx, "capture", f"response code {result.response_code}")
    tx.write(
        {
            "webpay_status": const.CAPTURED_STATUS,
            "webpay_pending_operation": False,
            "webpay_capture_date": transbank_datetime(result.authorization_date),
        }
    )
    if result.captured_amount != round(tx.amount):
        tx._set_error(
            tx.env._(
                "Transbank captured %(captured)s pesos instead of %(expected)s. Review this "
                "payment with Transbank.",
                captured=result.captured_amount,
                expected=round(tx.amount),
            )
        )
        return
    tx._set_done(tx.env._("Captured at Transbank."))
    _trigger_post_processing(tx.env)


def void(tx):
    """Release a deferred authorization: Transbank reverses it."""
    if soap := _soap(tx):
        return soap.void(tx)
    tx._latam_lock()
    if tx.state != "authorized" or _settle_unconfirmed_operation(tx):
        return
    try:
        result = _refund_call(tx, tx.amount)
    except rest.WebpayRejected as error:
        if settle_operation(tx):
            return
        raise _refused(tx, "void", error) from error
    except rest.WebpayUnknownOutcome as error:
        _mark_unknown(tx, "void", error)
        return
    if not result.accepted:
        raise _refused(tx, "void", f"response code {result.response_code}")
    tx.write({"webpay_status": "REVERSED", "webpay_pending_operation": False})
    tx._set_canceled(tx.env._("The authorization was released at Transbank; nothing was charged."))


def _mark_unknown(tx, operation, error):
    _logger.warning("Webpay: %s of %s has an unknown outcome: %s", operation, tx.reference, error)
    tx.write(
        {
            "webpay_pending_operation": operation,
            "state_message": tx.env._(
                "Transbank did not answer; Odoo is checking whether the operation happened."
            ),
        }
    )


def settle_operation(tx):
    """Act on Transbank's status of a deferred authorization; True if it settled `tx`."""
    try:
        status, _balance = sale_status(tx)
    except rest.WebpayError as error:
        _logger.warning("Webpay: status of %s unknown: %s", tx.reference, error)
        return False
    if status == const.CAPTURED_STATUS:
        tx.write({"webpay_status": status, "webpay_pending_operation": False})
        tx._set_done(tx.env._("Captured at Transbank."))
        _trigger_post_processing(tx.env)
        return True
    if status in const.REFUNDED_STATUSES:
        tx.write({"webpay_status": status, "webpay_pending_operation": False})
        tx._set_canceled(
            tx.env._("The authorization was released at Transbank; nothing was charged.")
        )
        return True
    if tx.webpay_pending_operation and status == const.APPROVED_STATUS:
        # The lost call never reached Transbank: the buttons may be used again.
        tx.write(
            {
                "webpay_pending_operation": False,
                "state_message": tx.env._(
                    "Transbank did not receive the last capture or void: nothing changed. "
                    "You may try again."
                ),
            }
        )
    return False


def check_unsettled(tx_model):
    """Cron: settle refunds, captures and voids whose answers were lost."""
    refunds = tx_model.search(
        [("provider_code", "=", "webpay"), ("operation", "=", "refund"), ("state", "=", "pending")]
    )
    operations = tx_model.search(
        [
            ("provider_code", "=", "webpay"),
            ("state", "=", "authorized"),
            ("webpay_pending_operation", "!=", False),
        ]
    )
    for tx in refunds | operations:
        lock_target = tx.source_transaction_id if tx.operation == "refund" else tx
        if not lock_target._latam_lock(wait=False):
            continue  # someone is acting on it right now
        tx.invalidate_recordset()
        try:
            with tx.env.cr.savepoint():
                if soap := _soap(lock_target):
                    soap.settle(tx)
                elif tx.operation == "refund" and tx.state == "pending":
                    settle_refund(tx)
                elif tx.state == "authorized" and tx.webpay_pending_operation:
                    settle_operation(tx)
        except Exception:  # one bad transaction must not stop the others
            _logger.exception("Webpay: settling %s failed", tx.reference)
