"""Saved cards (Oneclick Mall) over Transbank's legacy SOAP API.

Odoo behaves as with REST (`webpay_oneclick`, which also starts and finishes
inscriptions over SOAP with this module's client): same inscription round
trip, same token, same states, same refund records. Only the wire differs, and
with it how a lost authorization answer is settled:

- SOAP Oneclick Mall has no status query. Its remedy for an authorize whose
  answer was lost is `reverse(buy_order)`, accepted only within 30 seconds of
  the authorize: it is called at once, and a reversed payment is cancelled (no
  money taken). An authorize is never sent twice.
- A reversal that is itself unknown, or too late, leaves the payment pending.
  The cron asks `reverse` again and believes only a reversal that happened
  (after the window the spec documents no other answer); otherwise a person
  settles it from Transbank's portal.
- The mall's buy order is an xs:long: a number derived from the transaction,
  kept in `provider_reference` (the store's buy order stays readable).
- A token remembers the API it was inscribed with: a card saved over SOAP is
  charged, refunded and deleted over SOAP even if the provider goes back to
  REST, and the other way round.
"""

import hashlib
import logging
from dataclasses import replace
from datetime import timedelta

from odoo import fields
from odoo.exceptions import UserError, ValidationError

from ..gateways import webpay_const
from ..gateways import webpay_rest as rest
from ..gateways import webpay_soap_const as soap_const
from ..gateways import webpay_soap_oneclick as soap_oneclick
from ..gateways import webpay_soap_oneclick_const as const
from ..gateways.webpay_soap import commerce_code_12
from . import pending_sweep, webpay_soap_flow
from .webpay_flow import (
    STATUS_WINDOW,
    apply_mall_result,
    check_currency,
    record_voucher,
    store_buy_order,
)

_logger = logging.getLogger(__name__)

API = "soap"
# A saved-card payment left pending is asked about after this long (past the
# 30-second reversal window: the answer can no longer change).
SETTLE_AFTER = timedelta(minutes=2)


def uses_soap(record):
    """Whether a transaction or token (or a provider, for new operations) speaks SOAP."""
    return bool(record) and record.webpay_api == API


def oneclick_codes(provider, environment=None):
    """(mall commerce code, store code) for Oneclick Mall over SOAP.

    In test mode REST's integration defaults mean "Transbank's integration
    merchant": over SOAP that is the SOAP integration mall and its first store.
    Codes a merchant entered are kept (as 12 digits).
    """
    environment = environment or provider._latam_environment()
    mall = provider._latam_setting("oneclick_commerce_code", environment) or ""
    store = provider._latam_setting("oneclick_store_code", environment) or ""
    if environment == "test":
        if mall == webpay_const.INTEGRATION_ONECLICK_COMMERCE_CODE:
            mall = soap_const.INTEGRATION_MALL_COMMERCE_CODE
        if store == webpay_const.INTEGRATION_ONECLICK_STORE_CODE:
            store = soap_const.INTEGRATION_MALL_STORE_CODES[0]
    try:
        return commerce_code_12(mall), commerce_code_12(store)
    except ValueError as error:
        raise ValidationError(
            provider.env._(
                "Webpay (SOAP) saved cards need the Oneclick mall and store commerce codes: "
                "%(reason)s",
                reason=str(error),
            )
        ) from error


def client_for(provider):
    mall, _store = oneclick_codes(provider)
    return webpay_soap_flow.build_client(provider, soap_oneclick.OneclickMallClient, mall)


def mall_buy_order(tx):
    """The mall operation's buy order (xs:long), fixed once per transaction.

    Derived from the database and the transaction, so two databases sharing
    Transbank's integration mall do not collide; kept in `provider_reference`.
    """
    if tx.provider_reference and tx.provider_reference.isdigit():
        return tx.provider_reference
    uuid = tx.env["ir.config_parameter"].sudo().get_param("database.uuid", "")
    digest = hashlib.sha256(f"{uuid}:{tx.id}:{tx.reference}".encode()).hexdigest()
    buy_order = str(int(digest, 16) % 10**18 or tx.id)
    tx.provider_reference = buy_order
    return buy_order


# === Payments with a saved card === #


def authorize(tx):
    """Charge `tx.token_id` at Transbank over SOAP: at most once per transaction."""
    token = tx.token_id
    if not token:
        raise UserError(tx.env._("Webpay: this payment has no saved card."))
    check_currency(tx)  # a saved card may be offered for any invoice: pesos only
    provider = tx.provider_id
    _mall, store_code = oneclick_codes(provider)
    tx.write(
        {
            "webpay_api": API,
            "webpay_product": "oneclick",
            "webpay_store_code": store_code,
            "webpay_store_buy_order": store_buy_order(tx),
        }
    )
    buy_order = mall_buy_order(tx)
    client = client_for(provider)
    try:
        result = client.authorize(
            buy_order,
            token.provider_ref,
            token.webpay_oneclick_username,
            [(store_code, tx.webpay_store_buy_order, tx.amount)],
        )
    except ValueError as error:
        raise ValidationError(
            tx.env._("Webpay cannot take this payment: %(reason)s", reason=str(error))
        ) from error
    except soap_oneclick.AuthorizeUnknown as error:
        _logger.warning("Oneclick SOAP: authorization of %s unknown: %s", tx.reference, error)
        _reverse_lost_authorization(tx, client, error)
        return
    except rest.WebpayUnknownOutcome as error:  # defensive: the client raises AuthorizeUnknown
        _logger.warning("Oneclick SOAP: authorization of %s unknown: %s", tx.reference, error)
        _leave_for_a_person(tx)
        return
    except soap_oneclick.SoapFault as error:
        # Transbank refused the call (unknown inscription, credentials...): nothing moved.
        _logger.warning("Oneclick SOAP: authorization of %s refused: %s", tx.reference, error)
        tx._set_error(  # Transbank's own text stays in the log, not in the shop
            tx.env._(
                "Transbank refused the payment with your saved card (code %(code)s). "
                "No payment was made.",
                code=error.code,
            )
        )
        return
    apply_result(tx, result)


def apply_result(tx, result):
    """Turn a SOAP Oneclick Mall answer into the transaction's state, as REST does."""
    if result.buy_order != tx.provider_reference:
        _logger.warning("Oneclick SOAP: the answer for %s is about another buy order", tx.reference)
    else:
        # The mall buy order is Transbank's number; Odoo's checks compare its reference.
        # SOAP's authorize does not repeat the card: it is the saved card's.
        result = replace(
            result,
            buy_order=tx.reference,
            card_last4=result.card_last4 or tx.token_id.payment_details or "",
        )
    detail = result.detail(tx.webpay_store_code, tx.webpay_store_buy_order)
    matches = result.buy_order == tx.reference and detail and detail.amount == round(tx.amount)
    if matches and detail.failed and detail.response_code in const.LIMIT_CODES:
        # Oneclick's own limits (-97, -98, -99): say so rather than "declined".
        record_voucher(tx, result, detail)
        tx._set_error(
            tx.env._(
                "The payment exceeds the limits of your saved card at Transbank. "
                "No payment was made."
            )
        )
        return
    apply_mall_result(tx, result)


def _reverse_lost_authorization(tx, client, error):
    """Transbank's remedy for a lost authorize answer: reverse it within 30 seconds."""
    seconds_left = error.reverse_seconds_left()
    if not seconds_left:
        _logger.warning(
            "Oneclick SOAP: too late to reverse %s; a person must check it", tx.reference
        )
        _leave_for_a_person(tx)
        return
    settle_with_reverse(tx, client)
    if tx.state == "draft":
        _leave_for_a_person(tx)


def settle_with_reverse(tx, client=None, within_window=True):
    """Ask Transbank to reverse `tx`'s mall operation; act on a definite answer.

    Within the window it reverses, or says the operation never reached
    Transbank. Afterwards only a reversal that happened is believed: the spec
    documents no answer of `reverse` after its 30 seconds. True if settled.
    """
    client = client or client_for(tx.provider_id)
    try:
        reversal = client.reverse(tx.provider_reference)
    except soap_oneclick.SoapFault as error:
        if within_window and str(error.code) == str(const.FAULT_NOT_FOUND):
            # Transbank has no such operation: the authorization never arrived.
            _logger.info("Oneclick SOAP: %s never reached Transbank", tx.reference)
            tx._set_canceled(tx.env._("The payment did not reach Transbank. No payment was made."))
            return True
        _logger.warning("Oneclick SOAP: reversal of %s refused: %s", tx.reference, error)
        return False
    except (rest.WebpayUnknownOutcome, ValueError) as error:
        _logger.warning("Oneclick SOAP: reversal of %s unknown: %s", tx.reference, error)
        return False
    if reversal.reversed:
        tx.write({"webpay_status": "REVERSED"})
        tx._set_canceled(
            tx.env._(
                "Webpay's answer to this payment was lost, so Transbank reversed it. "
                "No payment was made."
            )
        )
        return True
    _logger.warning("Oneclick SOAP: Transbank did not reverse %s", tx.reference)
    return False


def _leave_for_a_person(tx):
    message = tx.env._(
        "Transbank has not confirmed this payment with your saved card and it could not be "
        "reversed. Our staff will check it with Transbank; you will not be charged twice."
    )
    if tx.state == "draft":
        tx._set_pending(message)
    else:
        tx.state_message = message


def settle_pending(tx):
    """Cron: a pending SOAP saved-card payment. SOAP has no status query: ask `reverse`
    again; anything but a definite answer stays pending for a person."""
    if not tx.provider_reference:
        return
    settle_with_reverse(tx, within_window=False)


def check_pending(tx_model):
    now = fields.Datetime.now()
    txs = tx_model.search(
        [
            ("provider_code", "=", "webpay"),
            ("webpay_api", "=", API),
            ("webpay_product", "=", "oneclick"),
            ("state", "=", "pending"),
            ("operation", "!=", "refund"),
            ("webpay_store_buy_order", "!=", False),
            ("create_date", "<=", now - SETTLE_AFTER),
            ("create_date", ">=", now - STATUS_WINDOW),
        ]
    )
    return pending_sweep.sweep(
        txs, settle_pending, "Oneclick SOAP", is_open=lambda tx: tx.state == "pending"
    )


# === Refunds of saved-card payments === #


def refund(tx, amount):
    """Nullify `amount` of the store's part of `tx`: a RefundResult of type NULLIFIED."""
    return client_for(tx.provider_id).nullify(
        tx.webpay_store_code,
        tx.webpay_store_buy_order,
        tx.webpay_authorization_code,
        tx.amount,
        amount,
    )


def refund_status(tx):
    """SOAP Oneclick Mall has no status query: a refund whose answer was lost stays
    pending until a person checks it with Transbank."""
    raise rest.WebpayUnknownOutcome(
        f"Oneclick Mall over SOAP has no status query; check {tx.reference} with Transbank"
    )


# === Deleting a saved card === #


def delete_inscription(token):
    tolerate = token.env.context.get("webpay_tolerate_unreachable")
    try:
        client = client_for(token.provider_id)
    except ValidationError:
        if not tolerate:
            raise  # e.g. the SOAP credentials were removed: the card stays saved
        _logger.warning(
            "Oneclick SOAP: token %s archived with its provider, without SOAP credentials; "
            "delete its inscription at Transbank by hand",
            token.id,
        )
        return
    try:
        removed = client.remove_inscription(token.provider_ref, token.webpay_oneclick_username)
    except soap_oneclick.SoapFault as error:
        # Refused: already gone at Transbank (or never there); the card cannot be charged.
        _logger.info("Oneclick SOAP: inscription of token %s not removed: %s", token.id, error)
        return
    except rest.WebpayUnknownOutcome as error:
        _logger.warning("Oneclick SOAP: removing the inscription of token %s: %s", token.id, error)
        if tolerate:
            _logger.warning(
                "Oneclick SOAP: token %s archived with its provider; delete its inscription "
                "at Transbank by hand",
                token.id,
            )
            return
        raise UserError(
            token.env._(
                "Transbank could not be reached to delete the saved card; it is still saved. "
                "Please try again."
            )
        ) from error
    if not removed:
        # Transbank had no such inscription: nothing can be charged with it either.
        _logger.info("Oneclick SOAP: Transbank had no inscription for token %s", token.id)
