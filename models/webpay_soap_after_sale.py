"""Webpay after the sale over Transbank's legacy SOAP API: refunds, capture, void.

For Webpay Plus, Mall and (refunds only) Oneclick Mall payments made over SOAP;
Oneclick's nullification is `webpay_soap_oneclick_flow.refund`.

Odoo behaves as with REST (`webpay_after_sale`): a refund is a child refund
transaction, done when Transbank nullifies the amount; a capture makes the
payment done; a refusal is a UserError and changes nothing. Only the wire
differs, and with it how an answer we never saw is settled, since SOAP has
no status query:

- Refunds are nullifications (`nullify`) of the sale's authorization code and
  authorized amount (for a deferred-capture sale: the capture's code, when
  Transbank gave it, and the captured amount, which is the whole payment), for
  the sale's buy order; in a mall, the store's buy order and commerce code.
  Transbank allows one partial nullification per sale, within 90 days.
  A capture's authorization code replaces the sale's in
  `webpay_authorization_code`: nullifications of a captured sale name it.
- A nullification whose answer was lost leaves its refund pending, and no new
  refund of the sale is sent until it is settled. It is settled by sending the
  same nullification again ONLY when it was for the whole remaining balance:
  Transbank answers 310 ("anulada previamente") if the first one landed, or
  nullifies now if it did not; either way the money went back exactly once.
  Any other answer leaves it pending for a person.
  A lost *partial* nullification is never sent again: if the first one landed
  the second is refused (312, a second partial), or, when the amount equals
  what is left, taken as a nullification of the whole rest, giving the money
  back twice. Nothing on the wire tells the two cases apart, so it stays
  pending with a message asking the accountant to check Transbank's portal.
- A capture whose answer was lost marks the payment `webpay_pending_operation
  = "capture"`; the cron (or the Capture button) sends it again: Transbank
  captures once per authorization, so 309 ("capturada previamente") or a
  success both mean captured; 310 means the authorization was reversed;
  16, 274, 284 and 292 mean it was not captured (the button may be used
  again, as REST's "nothing changed"); an unknown outcome keeps it pending.
- Void: SOAP has no operation that releases an uncaptured authorization
  (nullify needs a captured sale). The Void button raises a UserError saying
  so and changes nothing: the authorization lapses on its own if it is not
  captured within 7 days, so no money moves. Odoo never marks it released
  itself, which would hide an authorization Transbank still holds.
"""

import logging

from odoo.exceptions import UserError

from ..gateways import webpay_const as const
from ..gateways import webpay_rest as rest
from ..gateways import webpay_soap as soap
from . import webpay_after_sale as after_sale
from . import webpay_soap_oneclick_flow
from .webpay_flow import is_mall, transbank_datetime
from .webpay_soap_flow import client_for

_logger = logging.getLogger(__name__)

ALREADY_NULLIFIED = 310  # nullify: "anulada previamente"; capture: "reversada previamente"
ALREADY_CAPTURED = 309
# A resent capture refused with these did not capture anything, then or now.
NOT_CAPTURED_CODES = frozenset({16, 274, 284, 292})


def _common_reasons(env):
    """What capture and nullify refusals share: the request and the commerce."""
    return {
        304: env._("Transbank found required data missing in the request."),
        245: env._("Transbank does not know the commerce code; check the provider's settings."),
        22: env._("the commerce code is not active at Transbank."),
        316: env._(
            "the commerce code does not match the provider's certificate, or the store is not "
            "part of the mall."
        ),
        308: env._("Transbank does not allow this operation for this commerce."),
        315: env._("Transbank's authorizer failed; try again later."),
    }


def _nullify_reason(env, code):
    reasons = {
        **_common_reasons(env),
        274: env._("Transbank does not find this sale."),
        16: env._(
            "Transbank does not allow nullifying this sale (debit and prepaid sales are "
            "nullified in full only; a deferred sale must be captured first)."
        ),
        292: env._("the sale is not authorized at Transbank."),
        284: env._("the 90 days to nullify this sale have passed."),
        310: env._("the sale was already nullified at Transbank."),
        311: env._("the amount is more than the balance Transbank still holds for this sale."),
        312: env._(
            "Transbank allows only one partial nullification per sale: only the whole "
            "remaining balance can still be refunded."
        ),
        53: env._("a sale paid in installments can only be nullified in full."),
    }
    return reasons.get(code, env._("Transbank gave no reason."))


def _capture_reason(env, code):
    reasons = {
        **_common_reasons(env),
        274: env._("Transbank does not find this authorization."),
        16: env._("this payment was not authorized for deferred capture."),
        292: env._("the payment is not authorized at Transbank."),
        284: env._("the 7 days to capture this authorization have passed."),
        311: env._("the amount is more than Transbank authorized."),
    }
    return reasons.get(code, env._("Transbank gave no reason."))


def _refused(tx, reason, fault):
    _logger.warning("Webpay SOAP refused an operation on %s: %s", tx.reference, fault)
    return UserError(
        tx.env._(
            "Transbank refused this operation on %(reference)s (code %(code)s): %(reason)s "
            "Nothing was changed.",
            reference=tx.reference,
            code=fault.code if fault.code is not None else "-",
            reason=reason,
        )
    )


def _sale_reference(tx):
    """(buy order, commerce code or None) of `tx`'s sale: its store's part in a mall."""
    if is_mall(tx):
        return tx.webpay_store_buy_order, tx.webpay_store_code
    return tx.reference, None


# === Refunds === #


def _nullify(source_tx, amount):
    if source_tx.webpay_product == "oneclick":
        return webpay_soap_oneclick_flow.refund(source_tx, amount)
    buy_order, commerce_code = _sale_reference(source_tx)
    return client_for(source_tx.provider_id).nullify(
        source_tx.webpay_authorization_code,
        round(source_tx.amount),  # for a deferred sale: the captured amount, the whole payment
        buy_order,
        amount,
        commerce_code=commerce_code,
    )


def refund(source_tx, refund_tx):
    """Nullify `refund_tx`'s amount of `source_tx` at Transbank."""
    # One refund of a sale at a time: Transbank checks each against the balance left.
    source_tx._latam_lock()
    after_sale._settle_unconfirmed_refunds(source_tx, refund_tx, settle=settle_refund)
    try:
        result = _nullify(source_tx, round(-refund_tx.amount))
    except soap.SoapFault as fault:
        raise _refused(source_tx, _nullify_reason(source_tx.env, fault.code), fault) from fault
    except rest.WebpayUnknownOutcome as error:
        _logger.warning(
            "Webpay SOAP: refund %s has an unknown outcome: %s", refund_tx.reference, error
        )
        refund_tx._set_pending(_unconfirmed_message(source_tx, refund_tx))
        return
    _set_nullified(source_tx, refund_tx, result)


def _set_nullified(source_tx, refund_tx, result):
    after_sale._record_refund(source_tx, refund_tx, const.REFUND_NULLIFIED, result)
    refund_tx._set_done(after_sale._refund_message(refund_tx))
    after_sale._trigger_post_processing(source_tx.env)


def _unconfirmed_message(source_tx, refund_tx):
    if after_sale.is_whole_rest(source_tx, refund_tx):
        return source_tx.env._(
            "Transbank has not confirmed this refund yet; Odoo is checking with Transbank. "
            "Do not refund again until it is settled."
        )
    return source_tx.env._(
        "Transbank's answer to this partial refund was lost, and its SOAP API can neither "
        "tell whether it happened nor take it again safely. Check the sale in Transbank's "
        "portal before doing anything else: Odoo will not send it again."
    )


def settle_refund(refund_tx):
    """Settle a refund whose answer was lost: only a nullification of the whole
    remaining balance is sent again (see the module docstring)."""
    source_tx = refund_tx.source_transaction_id
    if not after_sale.is_whole_rest(source_tx, refund_tx):
        return  # a partial one: for a person, who checks Transbank's portal
    try:
        result = _nullify(source_tx, round(-refund_tx.amount))
    except soap.SoapFault as fault:
        if fault.code == ALREADY_NULLIFIED:
            # The lost nullification landed: the whole rest went back.
            refund_tx.write({"webpay_refund_type": const.REFUND_NULLIFIED, "webpay_balance": 0})
            source_tx.webpay_status = "NULLIFIED"
            refund_tx._set_done(
                refund_tx.env._(
                    "Transbank confirmed that the sale was nullified: the whole remaining "
                    "balance went back."
                )
            )
            after_sale._trigger_post_processing(refund_tx.env)
            return
        _logger.warning("Webpay SOAP: refund %s not settled: %s", refund_tx.reference, fault)
        refund_tx.state_message = refund_tx.env._(
            "Transbank did not confirm this refund (code %(code)s): %(reason)s Check the sale "
            "in Transbank's portal before doing anything else.",
            code=fault.code if fault.code is not None else "-",
            reason=_nullify_reason(refund_tx.env, fault.code),
        )
        return
    except rest.WebpayUnknownOutcome as error:
        _logger.warning("Webpay SOAP: refund %s still unknown: %s", refund_tx.reference, error)
        return
    _set_nullified(source_tx, refund_tx, result)


# === Deferred capture and void === #


def _send_capture(tx):
    """Send the capture of `tx`'s whole authorization and apply what Transbank says.

    Returns the SoapFault of a refusal that settled nothing, else None.
    """
    buy_order, commerce_code = _sale_reference(tx)
    try:
        result = client_for(tx.provider_id).capture(
            tx.webpay_authorization_code, round(tx.amount), buy_order, commerce_code=commerce_code
        )
    except soap.SoapFault as fault:
        if fault.code == ALREADY_CAPTURED:
            _set_captured(tx)
            return None
        if fault.code == ALREADY_NULLIFIED:
            tx.write({"webpay_status": "REVERSED", "webpay_pending_operation": False})
            tx._set_canceled(
                tx.env._("The authorization was released at Transbank; nothing was charged.")
            )
            return None
        return fault
    except rest.WebpayUnknownOutcome as error:
        after_sale._mark_unknown(tx, "capture", error)
        return None
    _set_captured(tx, result)
    return None


def _set_captured(tx, result=None):
    """As REST's capture: done. `result` is None when Transbank only said 309 (captured
    by the call whose answer was lost): the sale's authorization code stays."""
    values = {"webpay_status": const.CAPTURED_STATUS, "webpay_pending_operation": False}
    if result is not None:
        values["webpay_capture_date"] = transbank_datetime(result.authorization_date)
        # Transbank nullifies a captured sale by the capture's authorization code.
        values["webpay_authorization_code"] = result.authorization_code
    tx.write(values)
    tx._set_done(tx.env._("Captured at Transbank."))
    after_sale._trigger_post_processing(tx.env)


def capture(tx):
    """Capture the whole of a deferred Webpay authorization (again, if an earlier
    capture's answer was lost: Transbank captures once per authorization)."""
    tx._latam_lock()
    if tx.state != "authorized":
        return
    fault = _send_capture(tx)
    if fault is not None:
        raise _refused(tx, _capture_reason(tx.env, fault.code), fault) from fault


def void(tx):
    """Refuse: SOAP cannot release an uncaptured authorization (module docstring)."""
    tx._latam_lock()
    if tx.state != "authorized":
        return
    raise UserError(
        tx.env._(
            "Transbank's SOAP API cannot release an authorization that was not captured. "
            "Nothing was changed: do not capture %(reference)s and the authorization lapses "
            "on its own after 7 days, without charging the customer.",
            reference=tx.reference,
        )
    )


def settle_operation(tx):
    """Cron: send again a capture whose answer was lost."""
    if tx.webpay_pending_operation != "capture":
        return  # an acknowledgement is a person's to settle (webpay_soap_flow)
    fault = _send_capture(tx)
    if fault is None:
        return
    if fault.code in NOT_CAPTURED_CODES:
        _logger.info("Webpay SOAP: the lost capture of %s did not happen: %s", tx.reference, fault)
        tx.write(
            {
                "webpay_pending_operation": False,
                "state_message": tx.env._(
                    "Transbank did not capture this payment (code %(code)s): %(reason)s "
                    "Nothing was charged.",
                    code=fault.code,
                    reason=_capture_reason(tx.env, fault.code),
                ),
            }
        )
        return
    _logger.warning("Webpay SOAP: capture of %s still unsettled: %s", tx.reference, fault)


def settle(tx):
    """Cron: settle `tx`, a SOAP sale's pending refund or unconfirmed capture."""
    if tx.operation == "refund" and tx.state == "pending":
        settle_refund(tx)
    elif tx.state == "authorized" and tx.webpay_pending_operation:
        settle_operation(tx)
