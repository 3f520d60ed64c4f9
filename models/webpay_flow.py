"""Webpay on a `payment.transaction`: open, return, commit, status.

The transaction model calls these functions from Odoo's hooks; they turn the
protocol results of `gateways.webpay_rest` into transaction states.
"""

import logging
import secrets
from datetime import datetime, timedelta, timezone

from odoo import fields
from odoo.exceptions import ValidationError

from odoo.addons.payment import utils as payment_utils

from ..gateways import webpay_const as const
from ..gateways import webpay_mall as mall
from ..gateways import webpay_rest as rest
from . import pending_sweep

_logger = logging.getLogger(__name__)

RETURN_ROUTE = "/payment/webpay/return"
# Checked once the form's lifetime is over; older than Transbank's 7-day
# status window, nothing more can be learnt.
STATUS_WINDOW = timedelta(days=7)


def client_for(provider):
    # The mall client speaks Webpay Plus too: one client for both.
    return mall.MallClient(
        provider._latam_setting("api_url") or "",
        provider._webpay_commerce_code(),
        provider._latam_setting("api_key"),
    )


def store_buy_order(tx):
    """The store's buy order: unique with the transaction id, within 26 characters."""
    prefix = f"{tx.id}-"
    return prefix + tx.reference[: const.BUY_ORDER_MAX_LENGTH - len(prefix)]


def is_mall(tx):
    return tx.webpay_product == "mall"


def mall_parts(tx):
    """Name the store selling `tx` on it; return the mall call's parts."""
    store_code = tx._webpay_store_code()
    if not store_code:
        raise ValidationError(
            tx.env._(
                "Webpay Plus Mall has no store for %(company)s: add one on the provider.",
                company=tx.company_id.name,
            )
        )
    tx.write(
        {
            "webpay_product": "mall",
            "webpay_store_code": store_code,
            "webpay_store_buy_order": store_buy_order(tx),
        }
    )
    return [(store_code, tx.webpay_store_buy_order, tx.amount)]


def base_url(tx):
    return tx.provider_id.get_base_url().rstrip("/")


def _create_at_transbank(tx, session_id):
    """Open a Webpay Plus transaction over REST, or a mall one naming the store that sells."""
    client = client_for(tx.provider_id)
    return_url = f"{base_url(tx)}{RETURN_ROUTE}"
    if not tx.provider_id.webpay_mall:
        return client.create_transaction(tx.reference, session_id, tx.amount, return_url)
    return client.create_mall_transaction(tx.reference, session_id, return_url, mall_parts(tx))


def buy_order_or_none(reference):
    try:
        return rest.check_buy_order(reference)
    except ValueError:
        return None


def check_currency(tx):
    if tx.currency_id.name not in const.SUPPORTED_CURRENCIES:
        raise ValidationError(tx.env._("Webpay only takes payments in Chilean pesos (CLP)."))


def open_transaction(tx, create=_create_at_transbank, api="rest"):
    """Create the transaction at Transbank; return the redirect form's values.

    `create(tx, session_id)` opens it over one API and returns (token, form URL);
    everything else (checks, refusals, what is stored) is the same for both.
    """
    check_currency(tx)
    try:
        rest.clp_amount(tx.amount)
    except ValueError as error:
        raise ValidationError(
            tx.env._("Webpay cannot take this payment: the amount must be a whole number of pesos.")
        ) from error
    if not buy_order_or_none(tx.reference):
        raise ValidationError(
            tx.env._(
                "Webpay cannot take this payment: its reference %(reference)s is not a buy order "
                "Transbank accepts (at most 26 letters, digits or |_=&%%.,~:/?[+!@()>-).",
                reference=tx.reference,
            )
        )
    # Random: with the buy order it identifies a timeout return, which must not be forgeable.
    session_id = f"odoo-{secrets.token_hex(16)}"
    try:
        token, url = create(tx, session_id)
    except ValueError as error:  # e.g. a base URL longer than Transbank accepts
        _logger.warning("Webpay: transaction %s not opened: %s", tx.reference, error)
        raise ValidationError(
            tx.env._("Webpay cannot take this payment: %(reason)s", reason=str(error))
        ) from error
    except rest.WebpayRejected as error:
        _logger.warning("Webpay refused to open %s: %s", tx.reference, error)
        raise ValidationError(
            tx.env._(
                "Webpay refused to open the payment (%(reason)s). No payment was made.",
                reason=error.message,
            )
        ) from error
    except rest.WebpayUnknownOutcome as error:
        # Opening moves no money: the shopper may simply try again.
        _logger.warning("Webpay unreachable opening %s: %s", tx.reference, error)
        raise ValidationError(
            tx.env._("Webpay could not be reached. No payment was made; please try again.")
        ) from error
    tx.write(
        {
            "provider_reference": token,
            "webpay_session_id": session_id,
            "webpay_capture_deferred": tx.provider_id.capture_manually,
            "webpay_api": api,
        }
    )
    return {"api_url": url, "token_ws": token}


def find_transaction(tx_model, data):
    """Return the Webpay transaction a return is about, or raise ValidationError."""
    kind = data.get("kind")
    domain = [("provider_code", "=", "webpay")]
    if kind in (rest.RETURN_COMMIT, rest.RETURN_ABORTED, rest.RETURN_FORM_ERROR):
        domain.append(("provider_reference", "=", data.get("token")))
    elif kind == rest.RETURN_TIMEOUT:
        domain += [
            ("reference", "=", data.get("buy_order")),
            ("webpay_session_id", "=", data.get("session_id")),
        ]
    else:
        raise ValidationError(tx_model.env._("Webpay: the return carries no transaction data."))
    tx = tx_model.search(domain, limit=1)
    if not tx:
        raise ValidationError(tx_model.env._("Webpay: no transaction matches this return."))
    return tx


def process_return(tx, data):
    """Apply a return from Transbank's form to `tx`: commit at most once per token."""
    tx._latam_lock()
    if tx.state not in ("draft", "pending"):
        _logger.info("Webpay: %s already %s; return ignored", tx.reference, tx.state)
        return
    if tx.state == "pending":
        # A commit was already sent and its answer lost: sending it again would be
        # a blind retry, and cancelling could drop a payment Transbank took.
        resolve_with_status(tx)
        return
    kind = data["kind"]
    if kind == rest.RETURN_ABORTED:
        tx._set_canceled(tx.env._("You cancelled the payment on Webpay. No payment was made."))
    elif kind == rest.RETURN_TIMEOUT:
        tx._set_canceled(tx.env._("The time to pay on Webpay ran out. No payment was made."))
    elif kind == rest.RETURN_FORM_ERROR:
        tx._set_canceled(tx.env._("Webpay's payment form reported an error. No payment was made."))
    else:
        client = client_for(tx.provider_id)
        commit = client.commit_mall if is_mall(tx) else client.commit_transaction
        try:
            result = commit(tx.provider_reference)
        except rest.WebpayRejected as error:
            # Committed already (a lost answer) or not committable: Transbank's
            # status says which, and is the only thing we act on.
            _logger.info("Webpay: commit of %s refused (%s); asking status", tx.reference, error)
            resolve_with_status(tx, client)
            return
        except rest.WebpayUnknownOutcome as error:
            _logger.warning("Webpay: commit of %s has an unknown outcome: %s", tx.reference, error)
            set_unknown(tx)
            return
        apply_any_result(tx, result)


def set_unknown(tx):
    tx._set_pending(
        tx.env._(
            "Webpay has not confirmed the payment yet. We are checking with Transbank; "
            "you will not be charged twice."
        )
    )


def resolve_with_status(tx, client=None, abandon_if_unpaid=False):
    """Ask Transbank what happened to `tx` and act on the answer."""
    client = client or client_for(tx.provider_id)
    status = client.mall_status if is_mall(tx) else client.transaction_status
    try:
        result = status(tx.provider_reference)
    except rest.WebpayUnknownOutcome as error:
        _logger.warning("Webpay: status of %s unknown: %s", tx.reference, error)
        set_unknown(tx)
        return
    except rest.WebpayRejected as error:
        if error.status_code != 422:
            # 401 and the like say nothing about the payment (our credentials,
            # Transbank's gateway): still unknown, never a reason to cancel.
            _logger.warning("Webpay: status of %s refused: %s", tx.reference, error)
            set_unknown(tx)
            return
        # 422: Transbank keeps no payable state for this token (aborted, expired).
        _logger.info("Webpay: status of %s refused: %s", tx.reference, error)
        tx._set_canceled(tx.env._("The payment was not completed on Webpay. No payment was made."))
        return
    if _unpaid(tx, result):
        if abandon_if_unpaid:
            tx._set_canceled(
                tx.env._("The payment was not completed on Webpay. No payment was made.")
            )
        else:
            set_unknown(tx)
        return
    apply_any_result(tx, result)


def _unpaid(tx, result):
    """Transbank holds the transaction, but the shopper has not paid (yet)."""
    if is_mall(tx):
        detail = result.detail(tx.webpay_store_code, tx.webpay_store_buy_order)
        return detail is not None and detail.status == "INITIALIZED" and not detail.response_code
    return result.status == "INITIALIZED" and not result.response_code


def transbank_datetime(value):
    if not value:
        return False
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    if parsed.tzinfo:
        parsed = parsed.astimezone(timezone.utc).replace(tzinfo=None)
    return fields.Datetime.to_string(parsed)


def record_voucher(tx, result, detail=None):
    """Write Transbank's answer on `tx`: a Webpay Plus result, or a mall result
    with the detail of the store that sold."""
    part = detail or result
    tx.write(
        {
            "webpay_status": part.status,
            "webpay_response_code": part.response_code,
            "webpay_authorization_code": part.authorization_code,
            "webpay_card_last4": result.card_last4,
            "webpay_payment_type": part.payment_type_code
            if part.payment_type_code in const.PAYMENT_TYPE_CODES
            else False,
            "webpay_installments_number": part.installments_number,
            "webpay_installments_amount": part.installments_amount or 0,
            "webpay_transaction_date": transbank_datetime(result.transaction_date),
            "webpay_accounting_date": result.accounting_date,
            "webpay_vci": getattr(result, "vci", ""),
        }
    )


def set_mismatch_error(tx):
    # Money may have moved for something else than this order: never done;
    # a person must look (and refund if needed).
    tx._set_error(
        tx.env._(
            "Transbank's answer does not match this payment (buy order or amount). "
            "Our staff will review it; please contact us before paying again."
        )
    )


def matches(tx, result):
    """Transbank's answer is about `tx`: its buy order and amount (a mall's: the store's
    part). Anything else is never taken as this payment's outcome."""
    if result.buy_order != tx.reference:
        return False
    if isinstance(result, mall.MallResult):  # Webpay Plus Mall and Oneclick
        detail = result.detail(tx.webpay_store_code, tx.webpay_store_buy_order)
        return detail is not None and detail.amount == round(tx.amount)
    return result.amount == round(tx.amount)


def apply_result(tx, result):
    """Turn a commit or status answer into the transaction's state."""
    if not matches(tx, result):
        _logger.warning(
            "Webpay: %s answered for buy order %s and amount %s, expected %s",
            tx.reference,
            result.buy_order,
            result.amount,
            round(tx.amount),
        )
        set_mismatch_error(tx)
        return
    record_voucher(tx, result)
    conclude(tx, result)


def apply_any_result(tx, result):
    if is_mall(tx):
        apply_mall_result(tx, result)
    else:
        apply_result(tx, result)


def apply_mall_result(tx, result):
    """Turn a mall answer (Webpay Plus Mall or Oneclick) into the transaction's state."""
    detail = result.detail(tx.webpay_store_code, tx.webpay_store_buy_order)
    if not matches(tx, result):
        _logger.warning("Webpay: the mall answer for %s does not match the payment", tx.reference)
        set_mismatch_error(tx)
        return
    record_voucher(tx, result, detail)
    conclude(tx, detail)


def conclude(tx, part):
    """Set the state from a matching answer (a Plus result or the store's detail)."""
    if part.payment_type_code == "VD":
        redcompra = tx.env.ref(
            "payment_latam.payment_method_webpay_redcompra", raise_if_not_found=False
        )
        if redcompra:
            tx.payment_method_id = redcompra
    if part.approved and tx.webpay_capture_deferred:
        tx._set_authorized()
    elif part.approved:
        tx._set_done()
    elif part.failed:
        tx._set_error(rejection_message(tx, part.response_code))
    else:
        set_unknown(tx)


def rejection_message(tx, response_code):
    reason = const.REJECTION_REASONS.get(response_code, "rejected")
    messages = {
        "rejected": tx.env._("Your card issuer declined the payment. No payment was made."),
        "card_or_account": tx.env._(
            "The payment was declined: check your card or account details. No payment was made."
        ),
        "transbank_error": tx.env._(
            "Transbank could not process the payment. No payment was made."
        ),
        "issuer_rejected": tx.env._("Your bank declined the payment. No payment was made."),
        "fraud_risk": tx.env._(
            "The payment was declined for security reasons. No payment was made."
        ),
    }
    return messages[reason]


def check_pending(tx_model):
    """Cron: ask Transbank about Webpay payments left pending, and settle them."""
    now = fields.Datetime.now()
    txs = tx_model.search(
        [
            ("provider_code", "=", "webpay"),
            ("webpay_api", "=", "rest"),  # SOAP has no status query: see webpay_soap_flow
            ("webpay_product", "!=", "oneclick"),
            ("state", "in", ("draft", "pending")),
            ("provider_reference", "!=", False),
            ("create_date", "<=", now - timedelta(minutes=const.FORM_LIFETIME_MINUTES + 5)),
            ("create_date", ">=", now - STATUS_WINDOW),
        ]
    )
    return pending_sweep.sweep(
        txs, lambda tx: resolve_with_status(tx, abandon_if_unpaid=True), "Webpay"
    )


def compute_reference(tx_model, prefix, separator, compute_super, **kwargs):
    """Keep Odoo's readable reference when Transbank accepts it as a buy order."""
    reference = compute_super(prefix=prefix, separator=separator, **kwargs)
    if buy_order_or_none(reference):
        return reference
    short_prefix = payment_utils.singularize_reference_prefix(
        separator=separator, max_length=const.BUY_ORDER_MAX_LENGTH - 4
    )
    return compute_super(prefix=short_prefix, separator=separator, **kwargs)
