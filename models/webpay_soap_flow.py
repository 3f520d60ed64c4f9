"""Webpay over Transbank's legacy SOAP API on a `payment.transaction`.

Odoo behaves as with REST (`webpay_flow`): same checks, states, voucher and
mismatch rules. Only the wire differs, and with it how an unseen outcome is
settled:

- Transbank's result is read once (`getTransactionResult`) and must be
  acknowledged within 30 seconds, or Transbank reverses the payment. A result
  we never held was never acknowledged: no payment was made.
- SOAP has no status query. A payment whose shopper never came back is settled
  by reading its result as the return would have, once, under the row lock.
- An acknowledgement whose answer was lost leaves the payment pending for a
  person: Transbank either kept it or reversed it, and nothing on the wire
  tells which.
"""

import logging
from datetime import datetime, timedelta

import pytz

from odoo import fields
from odoo.exceptions import ValidationError

from ..gateways import webpay_const as const
from ..gateways import webpay_rest as rest
from ..gateways import webpay_soap as soap
from ..gateways import webpay_soap_const as soap_const
from . import pending_sweep, webpay_flow

_logger = logging.getLogger(__name__)

RETURN_ROUTE = "/payment/webpay/soap/return"
FINAL_ROUTE = "/payment/webpay/soap/final"
API = "soap"
SANTIAGO = "America/Santiago"  # Transbank's dates are Chilean local time
# Returns in which Transbank's own redirect says the shopper did not pay.
NOT_PAID_RETURNS = (rest.RETURN_ABORTED, rest.RETURN_TIMEOUT, rest.RETURN_FORM_ERROR)


def uses_soap(tx):
    return tx.webpay_api == API


def client_for(provider):
    return build_client(provider, soap.WebpaySoapClient, provider._webpay_soap_commerce_code())


def build_client(provider, client_class, commerce_code):
    """A SOAP client of `client_class` signing with the provider's key, or a clear
    ValidationError when the provider's credentials cannot sign."""
    key, certificate, transbank_certificate = provider._webpay_soap_credentials()
    if not (key and certificate and transbank_certificate):
        raise ValidationError(
            provider.env._(
                "Webpay (SOAP) needs the merchant's private key, its certificate and "
                "Transbank's certificate on the provider."
            )
        )
    try:
        return client_class(
            provider._latam_setting("api_url") or "",
            commerce_code,
            key,
            certificate,
            transbank_certificate,
            key_checked=True,  # validated when it was uploaded (the provider's constraint)
        )
    except ValueError as error:  # credentials stored before they were checked on upload
        raise ValidationError(
            provider.env._("Webpay (SOAP) cannot sign its calls: %(reason)s.", reason=str(error))
        ) from error


def _create_at_transbank(tx, session_id):
    client = client_for(tx.provider_id)
    return_url = f"{webpay_flow.base_url(tx)}{RETURN_ROUTE}"
    final_url = f"{webpay_flow.base_url(tx)}{FINAL_ROUTE}"
    if not tx.provider_id.webpay_mall:
        return client.init_transaction(tx.reference, session_id, tx.amount, return_url, final_url)
    return client.init_mall_transaction(
        tx.reference, session_id, return_url, final_url, webpay_flow.mall_parts(tx)
    )


def open_transaction(tx):
    return webpay_flow.open_transaction(tx, create=_create_at_transbank, api=API)


def process_return(tx, data):
    """Apply a return (to the return or final URL): read the result at most once."""
    tx._latam_lock()
    if tx.state != "draft":
        # Read already: done, refused, cancelled, or pending a person's check.
        _logger.info("Webpay SOAP: %s already %s; return ignored", tx.reference, tx.state)
        return
    settle(tx, data.get("kind"))


def _not_paid_message(tx, kind):
    messages = {
        rest.RETURN_ABORTED: tx.env._("You cancelled the payment on Webpay. No payment was made."),
        rest.RETURN_TIMEOUT: tx.env._("The time to pay on Webpay ran out. No payment was made."),
        rest.RETURN_FORM_ERROR: tx.env._(
            "Webpay's payment form reported an error. No payment was made."
        ),
    }
    return messages.get(
        kind, tx.env._("The payment was not completed on Webpay. No payment was made.")
    )


def _approved(tx, result):
    if webpay_flow.is_mall(tx):
        detail = result.detail(tx.webpay_store_code, tx.webpay_store_buy_order)
        return detail is not None and detail.approved
    return result.approved


def settle(tx, kind=None):
    """Read and acknowledge Transbank's result for `tx`, and set its state."""
    client = client_for(tx.provider_id)
    try:
        result = client.confirm(
            tx.provider_reference,
            mall=webpay_flow.is_mall(tx),
            buy_order=tx.reference,
            accept=lambda result: webpay_flow.matches(tx, result),
        )
    except soap.NotSent as error:
        # The result is still at Transbank, unread: the next return or the cron reads it.
        _logger.warning("Webpay SOAP: Transbank not reached for %s: %s", tx.reference, error)
    except soap.AcknowledgeRefused as error:
        _logger.warning("Webpay SOAP: acknowledge of %s refused: %s", tx.reference, error)
        tx._set_error(
            tx.env._(
                "Transbank did not accept the confirmation of this payment and reverses it. "
                "No payment was made."
            )
        )
    except soap.AcknowledgeUnknown as error:
        _logger.warning("Webpay SOAP: acknowledge of %s unknown: %s", tx.reference, error)
        if not _approved(tx, error.result):
            # A refusal moved no money, acknowledged or not.
            webpay_flow.apply_any_result(tx, error.result)
            record_result(tx, error.result)
            return
        _wait_for_a_person(
            tx,
            error.result,
            tx.env._(
                "Transbank has not confirmed the payment. Our staff will check it with "
                "Transbank; you will not be charged twice."
            ),
        )
    except soap.ResultRefused:
        _logger.warning("Webpay SOAP: the result for %s does not match it", tx.reference)
        tx._set_error(
            tx.env._(
                "Transbank's answer did not match this payment, so it was not confirmed and "
                "Transbank reverses it. No payment was made."
            )
        )
    except soap.ResultNotAcknowledged as error:
        # Never acknowledged: Transbank reverses whatever it authorized within 30 s.
        _logger.warning("Webpay SOAP: result of %s not read: %s", tx.reference, error)
        tx._set_canceled(
            tx.env._(
                "Webpay's answer did not reach us, so the payment was not confirmed and "
                "Transbank reverses it. No payment was made."
            )
        )
    except soap.SoapFault as error:
        _logger.info("Webpay SOAP: result of %s refused: %s", tx.reference, error)
        if error.code == soap_const.ABORTED_CODE or kind in NOT_PAID_RETURNS:
            # 272: aborted or expired on Transbank's form, as its redirect also said.
            tx._set_canceled(_not_paid_message(tx, kind))
            return
        # The result cannot be read (again?): an earlier read whose handling was rolled
        # back may have acknowledged it. Only Transbank's portal can tell.
        _wait_for_a_person(
            tx,
            None,
            tx.env._(
                "Transbank did not give the result of this payment. Our staff will check it "
                "with Transbank; you will not be charged twice."
            ),
            operation="result",
        )
    else:
        webpay_flow.apply_any_result(tx, result)
        record_result(tx, result)


def _wait_for_a_person(tx, result, message, operation="acknowledge"):
    """Pending, flagged for the reconciliation workspace, with what Transbank said."""
    if result is not None:
        detail = (
            result.detail(tx.webpay_store_code, tx.webpay_store_buy_order)
            if webpay_flow.is_mall(tx)
            else None
        )
        webpay_flow.record_voucher(tx, result, detail)
        record_result(tx, result)
    tx.write({"webpay_pending_operation": operation})
    tx._set_pending(message)


def record_result(tx, result):
    values = {"webpay_soap_voucher_url": result.url_redirection or False}
    moment = soap_datetime(result.transaction_date, fields.Datetime.now())
    if moment:
        values["webpay_transaction_date"] = moment
    tx.write(values)


def soap_datetime(value, now):
    """SOAP's `transactionDate`, MMDDHHmm in Chile's time, as naive UTC.

    It carries no year: the latest such moment not after `now` (a payment read
    on the 1st of January was made in December at the latest).
    """
    if not value or len(value) != 8 or not value.isdigit():
        return False
    santiago = pytz.timezone(SANTIAGO)
    local_now = pytz.utc.localize(now).astimezone(santiago)
    month, day, hour, minute = (int(value[i : i + 2]) for i in range(0, 8, 2))
    for year in (local_now.year, local_now.year - 1):
        try:
            local = santiago.localize(datetime(year, month, day, hour, minute))
        except ValueError:  # 29 February of a common year
            continue
        if local <= local_now + timedelta(minutes=5):  # clocks differ by a little
            return local.astimezone(pytz.utc).replace(tzinfo=None)
    return False


def voucher_form(tx):
    """Where the browser goes after the return: Transbank's voucher for a payment it
    approved, as the SOAP flow requires; None for anything else."""
    if tx.state in ("done", "authorized") and tx.webpay_soap_voucher_url:
        return {"api_url": tx.webpay_soap_voucher_url, "token_ws": tx.provider_reference}
    return None


def check_abandoned(tx_model):
    """Cron: settle SOAP payments whose shopper never came back from Transbank's form."""
    now = fields.Datetime.now()
    txs = tx_model.search(
        [
            ("provider_code", "=", "webpay"),
            ("webpay_api", "=", API),
            ("webpay_product", "!=", "oneclick"),
            ("state", "=", "draft"),
            ("provider_reference", "!=", False),
            ("create_date", "<=", now - timedelta(minutes=const.FORM_LIFETIME_MINUTES + 5)),
            ("create_date", ">=", now - webpay_flow.STATUS_WINDOW),
        ]
    )
    return pending_sweep.sweep(txs, settle, "Webpay SOAP", is_open=lambda tx: tx.state == "draft")
