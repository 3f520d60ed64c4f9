"""Oneclick Mall on `payment.transaction` and `payment.token`: saved cards.

"Save my card" runs an inscription at Transbank (start, the shopper's card
form, finish); the token keeps only Transbank's `tbk_user`, our username and
the card's last digits. Payments with a token are authorized server side.
"""

import logging
from datetime import timedelta

from odoo import fields
from odoo.exceptions import UserError, ValidationError

from ..gateways import webpay_oneclick as oneclick
from ..gateways import webpay_rest as rest
from . import pending_sweep, webpay_soap_oneclick_flow
from .webpay_flow import apply_mall_result, check_currency, set_unknown, store_buy_order

_logger = logging.getLogger(__name__)

RETURN_ROUTE = "/payment/webpay/oneclick/return"
INSCRIPTION_RETURN = "inscription"  # the notification kind the return route hands over
# A saved-card payment whose answer was lost is asked about after this long.
SETTLE_AFTER = timedelta(minutes=2)


def client_for(provider):
    return oneclick.OneclickClient(
        provider._latam_setting("api_url") or "",
        provider._latam_setting("oneclick_commerce_code"),
        provider._latam_setting("oneclick_api_key"),
    )


def wants_inscription(tx):
    return tx.tokenize or tx.operation == "validation"


def _tx_uses_soap(tx):
    return tx.webpay_api == "soap"


# === Inscription (the browser goes to Transbank's card form) === #


def _open_inscription(provider, api, username, email, return_url):
    """(token, card form URL) of a new inscription over `api`."""
    if api == "soap":
        client = webpay_soap_oneclick_flow.client_for(provider)
        start = client.init_inscription(username, email, return_url)
        return start.token, start.url
    return client_for(provider).start_inscription(username, email, return_url)


def start_inscription(tx):
    """Open an inscription; return the redirect form's values."""
    api = tx.provider_id.webpay_api  # a new operation: the provider's API
    if tx.operation != "validation":
        check_currency(tx)
    partner = tx.partner_id
    username = f"odoo-{partner.id}-{tx.id}"  # one inscription per token, never reused
    return_url = f"{tx.provider_id.get_base_url().rstrip('/')}{RETURN_ROUTE}"
    if not partner.email:
        raise ValidationError(tx.env._("Saving a card with Webpay needs your email address."))
    try:
        token, url = _open_inscription(tx.provider_id, api, username, partner.email, return_url)
    except ValueError as error:
        _logger.warning("Oneclick: inscription for %s not opened: %s", tx.reference, error)
        raise ValidationError(
            tx.env._("Webpay cannot save this card: %(reason)s", reason=str(error))
        ) from error
    except rest.WebpayError as error:
        _logger.warning("Oneclick: inscription for %s not opened: %s", tx.reference, error)
        raise ValidationError(
            tx.env._("Webpay could not start saving your card. No payment was made.")
        ) from error
    tx.write(
        {
            "webpay_api": api,  # finished, and the card charged, over the same API
            "webpay_product": "oneclick",
            "webpay_inscription_token": token,
            "webpay_oneclick_username": username,
        }
    )
    return {"api_url": url, "tbk_token": token}


def find_inscription_transaction(tx_model, token):
    tx = tx_model.search(
        [("provider_code", "=", "webpay"), ("webpay_inscription_token", "=", token)], limit=1
    )
    if not token or not tx:
        raise ValidationError(tx_model.env._("Webpay: no transaction matches this return."))
    return tx


def finish_inscription(tx):
    """The shopper is back from the card form: save the card, then pay with it."""
    tx._latam_lock()
    if tx.state != "draft" or tx.token_id:
        _logger.info("Oneclick: %s already %s; return ignored", tx.reference, tx.state)
        return
    not_saved = tx.env._("Your card was not saved. No payment was made.")
    # Finished over the API the inscription was opened with; the rest is the same.
    clients = webpay_soap_oneclick_flow.client_for if _tx_uses_soap(tx) else client_for
    try:
        result = clients(tx.provider_id).finish_inscription(tx.webpay_inscription_token)
    except rest.WebpayError as error:
        # Nothing was charged: an inscription we cannot confirm is no card.
        _logger.warning("Oneclick: finishing the inscription of %s: %s", tx.reference, error)
        tx._set_canceled(not_saved)
        return
    if not result.accepted:
        _logger.info("Oneclick: inscription of %s refused (%s)", tx.reference, result.response_code)
        tx._set_canceled(not_saved)
        return
    token = tx.env["payment.token"].create(
        {
            "provider_id": tx.provider_id.id,
            "payment_method_id": tx.payment_method_id.id,
            "partner_id": tx.partner_id.id,
            "provider_ref": result.tbk_user,
            "payment_details": result.card_last4,
            "webpay_oneclick_username": tx.webpay_oneclick_username,
            "webpay_api": tx.webpay_api,  # charged over the API it was saved with
        }
    )
    tx.write({"token_id": token.id, "tokenize": False})
    if tx.operation == "validation":
        tx._set_done(tx.env._("Your card was saved."))
    else:
        authorize(tx)


# === Payments with a saved card === #


def authorize(tx):
    """Charge `tx.token_id` at Transbank: at most once per transaction."""
    token = tx.token_id
    if token.webpay_api == "soap":  # a card is charged over the API it was saved with
        return webpay_soap_oneclick_flow.authorize(tx)
    if not token:
        raise UserError(tx.env._("Webpay: this payment has no saved card."))
    check_currency(tx)  # a saved card may be offered for any invoice: pesos only
    provider = tx.provider_id
    store_code = provider._latam_setting("oneclick_store_code")
    tx.write(
        {
            "webpay_product": "oneclick",
            "webpay_store_code": store_code,
            "webpay_store_buy_order": store_buy_order(tx),
        }
    )
    try:
        result = client_for(provider).authorize(
            token.webpay_oneclick_username,
            token.provider_ref,
            tx.reference,
            store_code,
            tx.webpay_store_buy_order,
            tx.amount,
        )
    except ValueError as error:
        raise ValidationError(
            tx.env._("Webpay cannot take this payment: %(reason)s", reason=str(error))
        ) from error
    except rest.WebpayRejected as error:
        if error.status_code == 422:
            # E.g. a buy order Transbank already charged (a request Odoo rolled back
            # after the charge): the status, not this refusal, says what happened.
            _logger.warning("Oneclick: authorization of %s refused: %s", tx.reference, error)
            set_unknown(tx)
            return
        # Refused before any authorization (credentials): no money moved.
        _logger.warning("Oneclick: authorization of %s refused: %s", tx.reference, error)
        tx._set_error(
            tx.env._(
                "Transbank refused the payment with your saved card (%(reason)s). "
                "No payment was made.",
                reason=error.message,
            )
        )
        return
    except rest.WebpayUnknownOutcome as error:
        _logger.warning("Oneclick: authorization of %s unknown: %s", tx.reference, error)
        set_unknown(tx)
        return
    apply_mall_result(tx, result)


def settle_pending(tx):
    """Settle a saved-card payment whose answer was lost, from Transbank's status."""
    try:
        result = client_for(tx.provider_id).mall_status(tx.reference)
    except rest.WebpayRejected as error:
        if error.status_code == 422:
            # Transbank knows no such buy order: the authorization never arrived.
            tx._set_canceled(tx.env._("The payment did not reach Transbank. No payment was made."))
        return
    except rest.WebpayUnknownOutcome as error:
        _logger.warning("Oneclick: status of %s unknown: %s", tx.reference, error)
        return
    apply_mall_result(tx, result)


def check_pending(tx_model):
    txs = tx_model.search(
        [
            ("provider_code", "=", "webpay"),
            ("webpay_api", "!=", "soap"),
            ("webpay_product", "=", "oneclick"),
            ("state", "=", "pending"),
            ("webpay_store_buy_order", "!=", False),
            ("create_date", "<=", fields.Datetime.now() - SETTLE_AFTER),
        ]
    )
    pending_sweep.sweep(txs, settle_pending, "Oneclick", is_open=lambda tx: tx.state == "pending")
    webpay_soap_oneclick_flow.check_pending(tx_model)


# === Refunds of saved-card payments === #


def refund(tx, amount):
    if _tx_uses_soap(tx):
        return webpay_soap_oneclick_flow.refund(tx, amount)
    return client_for(tx.provider_id).refund_detail(
        tx.reference, tx.webpay_store_code, tx.webpay_store_buy_order, amount
    )


def refund_status(tx):
    """(status, balance) of the store's part of `tx`, for a refund whose answer was lost."""
    if _tx_uses_soap(tx):
        return webpay_soap_oneclick_flow.refund_status(tx)
    result = client_for(tx.provider_id).mall_status(tx.reference)
    detail = result.detail(tx.webpay_store_code, tx.webpay_store_buy_order)
    if not detail:
        raise rest.WebpayUnknownOutcome("the store's detail is missing from the status")
    return detail.status, detail.balance


# === Deleting a saved card === #


def delete_inscription(token):
    if token.webpay_api == "soap":  # the inscription exists only on the API it was made with
        return webpay_soap_oneclick_flow.delete_inscription(token)
    try:
        client_for(token.provider_id).delete_inscription(
            token.provider_ref, token.webpay_oneclick_username
        )
    except rest.WebpayRejected as error:
        # Already gone at Transbank (or never there): the card cannot be charged.
        _logger.info("Oneclick: inscription of token %s not deleted: %s", token.id, error)
    except rest.WebpayUnknownOutcome as error:
        _logger.warning("Oneclick: deleting the inscription of token %s: %s", token.id, error)
        if token.env.context.get("webpay_tolerate_unreachable"):
            _logger.warning(
                "Oneclick: token %s archived with its provider; delete its inscription "
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
