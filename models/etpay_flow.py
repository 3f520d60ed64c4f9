"""ETpay on a `payment.transaction`: open the session, verify the signed outcome,
ask the status, settle what was left pending.

The transaction model calls these functions from Odoo's hooks; they turn what
`gateways.etpay_api` and `gateways.etpay_jwt` return into transaction states.
Tokens, JWTs and RUTs are never logged.
"""

import logging
import re
import time
from datetime import timedelta

from odoo import fields
from odoo.exceptions import ValidationError

from ..gateways import etpay_api as api
from ..gateways import etpay_const as const
from ..gateways import etpay_jwt, rut
from . import pending_sweep

_logger = logging.getLogger(__name__)

RETURN_ROUTE = "/payment/etpay/return"
CANCEL_ROUTE = "/payment/etpay/cancel"
WEBHOOK_ROUTE = "/payment/etpay/webhook"

SOURCE_WEBHOOK = "webhook"
SOURCE_RETURN = "return"
SOURCE_CANCEL = "cancel"
STATUS_CHECK_INTERVAL = timedelta(seconds=15)


class EtpayNotificationError(ValidationError):
    """A notification refused before anything changed; `http_status` is the answer's."""

    def __init__(self, message, http_status):
        super().__init__(message)
        self.http_status = http_status


def client_for(provider, environment=None):
    return api.EtpayClient(
        provider._latam_setting("api_url", environment),
        provider._latam_setting("merchant_code", environment),
        provider._latam_setting("api_token", environment),
    )


def tx_client(tx):
    """The client of the environment (sandbox or production) the session was opened in."""
    return client_for(tx.provider_id, tx.etpay_environment or None)


# === Opening the session === #


def compute_reference(compute_super, prefix, separator, **kwargs):
    """Keep Odoo's reference when ETpay takes it as `merchant_order_id`; otherwise
    (an invoice's `INV/2026/00001`) use it with ETpay's characters only."""
    reference = compute_super(prefix=prefix, separator=separator, **kwargs)
    if const.ORDER_ID_PATTERN.match(reference):
        return reference
    safe_prefix = re.sub(r"[^A-Za-z0-9-]+", "-", reference).strip("-")[
        : const.ORDER_ID_MAX_LENGTH - 8
    ]
    return compute_super(prefix=safe_prefix or "ETPAY", separator="-", **kwargs)


def _metadata(tx):
    """What the payer reads on ETpay's page: which order, from whom."""
    env = tx.with_context(lang=tx.partner_lang or tx.env.lang).env
    orders = getattr(tx, "sale_order_ids", None)
    documents = orders or tx.invoice_ids
    what = ", ".join(documents.mapped("name")) if documents else tx.reference
    return [
        (env._("Order"), what[:100], True),
        (env._("Merchant"), tx.company_id.name, True),
        (env._("Reference"), tx.reference, False),
    ]


def _payer_rut(tx):
    """The customer's RUT for ETpay's form, when the provider prefills it and it is valid."""
    if not tx.provider_id.etpay_prefill_rut:
        return None
    partner = tx.partner_id.commercial_partner_id
    if partner.country_id and partner.country_id.code != "CL":
        return None
    return rut.normalize(partner.vat)


def open_session(tx):
    """Create the payment session at ETpay; return the redirect form's values.

    The session token and the signature token are stored before the browser
    leaves: the outcome ETpay sends back is verified with the latter.
    """
    if tx.currency_id.name not in const.SUPPORTED_CURRENCIES:
        raise ValidationError(tx.env._("ETpay only takes payments in Chilean pesos (CLP)."))
    provider = tx.provider_id
    environment = provider._latam_environment()
    base_url = provider.get_base_url().rstrip("/")
    payer_rut = _payer_rut(tx)
    try:
        session = client_for(provider, environment).initialize_session(
            tx.reference,
            tx.amount,
            customer_email=tx.partner_email or None,
            metadata=_metadata(tx),
            completed_url=base_url + RETURN_ROUTE,
            cancellation_url=base_url + CANCEL_ROUTE,
            webhook_url=base_url + WEBHOOK_ROUTE,
            bank_code=provider.etpay_bank_code or None,
            payer_rut=payer_rut,
            lock_rut=provider.etpay_lock_rut,
        )
    except ValueError as error:
        _logger.warning("ETpay: session for %s not opened: %s", tx.reference, error)
        raise ValidationError(
            tx.env._(
                "ETpay cannot take this payment: %(reason)s. No payment was made.",
                reason=str(error),
            )
        ) from error
    except api.EtpayRejected as error:
        # ETpay's text stays in the log: an answer may echo what we sent.
        _logger.warning("ETpay refused a session for %s: %s", tx.reference, error)
        raise ValidationError(
            tx.env._(
                "ETpay refused to open the payment. No payment was made; please choose "
                "another payment method or contact us."
            )
        ) from error
    except api.EtpayUnknownOutcome as error:
        # A session nobody is sent to moves no money: the shopper may try again.
        _logger.warning("ETpay unreachable opening %s: %s", tx.reference, error)
        raise ValidationError(
            tx.env._("ETpay could not be reached. No payment was made; please try again.")
        ) from error
    tx.write({"provider_reference": session.token, "etpay_environment": environment})
    tx.sudo().etpay_signature_token = session.signature_token
    return {
        "session_url": api.session_page_url(
            provider._latam_setting("payment_page_url"), session.token
        )
    }


# === Finding and verifying a notification === #


def find_transaction(tx_model, data):
    """Return the ETpay transaction a notification is about, its JWT verified.

    Raise `EtpayNotificationError` before anything changes when the JWT is
    malformed (400), names no transaction of ours (404), or is not ETpay's
    signature of this very session and order (403). The verified claims are
    put in `data` for `process`.
    """
    token = data.get("jwt")
    if not token:
        tx = tx_model.browse(data.get("tx_id") or []).exists()
        if tx.provider_code != "etpay":
            raise EtpayNotificationError(
                tx_model.env._("ETpay: the notification names no payment."), 400
            )
        return tx
    try:
        unverified = etpay_jwt.unverified_claims(token)
    except etpay_jwt.JwtError as error:
        raise EtpayNotificationError(
            tx_model.env._("ETpay: unreadable JWT (%(reason)s).", reason=error.reason), 400
        ) from error
    session_token = unverified.get("session_token")
    order_id = unverified.get("merchant_order_id")
    domain = [("provider_code", "=", "etpay")]
    if isinstance(session_token, str) and session_token:
        domain.append(("provider_reference", "=", session_token))
    elif isinstance(order_id, str) and order_id:
        domain.append(("reference", "=", order_id))
    else:
        raise EtpayNotificationError(tx_model.env._("ETpay: the JWT names no session."), 400)
    tx = tx_model.search(domain, limit=1)
    if not tx:
        raise EtpayNotificationError(
            tx_model.env._("ETpay: no payment matches this notification."), 404
        )
    try:
        claims = etpay_jwt.verify(token, tx.sudo().etpay_signature_token, now=time.time())
    except etpay_jwt.JwtError as error:
        raise EtpayNotificationError(
            tx_model.env._("ETpay: JWT refused (%(reason)s).", reason=error.reason), 403
        ) from error
    # The key is this session's own; the claims must still name this session and order.
    session_claim = claims.get("session_token")
    if (session_claim is not None and session_claim != tx.provider_reference) or claims.get(
        "merchant_order_id"
    ) != tx.reference:
        raise EtpayNotificationError(
            tx_model.env._("ETpay: the JWT is about another session or order."), 403
        )
    data["claims"] = claims
    return tx


# === Acting on an outcome === #


def process(tx, data):
    """Apply a verified notification (or, without JWT, ETpay's status) to `tx`.

    Under the row lock: the webhook, the shopper's redirect and the cron may
    bring the same outcome at once, and only the first one acts.
    """
    tx._latam_lock()
    claims = data.get("claims")
    if not claims:
        if tx.state in ("draft", "pending") and not _checked_recently(tx):
            resolve_with_status(tx)
        return
    outcome = const.outcome_of(claims.get("payment_status"))
    try:
        amount = api.parse_amount(claims.get("order_amount"))
    except api.EtpayUnknownOutcome:
        _logger.warning("ETpay: %s notified an unreadable amount", tx.reference)
        outcome, amount = const.OUTCOME_UNKNOWN, None
    if outcome == const.OUTCOME_UNKNOWN:
        if tx.state in ("draft", "pending"):
            _logger.info("ETpay: %s notified an unknown status; asking ETpay", tx.reference)
            resolve_with_status(tx)
        return
    apply_outcome(
        tx,
        outcome,
        payment_token=str(claims.get("payment_token") or ""),
        payment_status=str(claims.get("payment_status") or ""),
        amount=amount,
    )
    if data.get("source") == SOURCE_WEBHOOK:
        # Server to server: no shopper's status page will post-process it.
        tx.env.ref("payment.cron_post_process_payment_tx")._trigger()


def _checked_recently(tx):
    """A shopper reloading the return page must not turn into a stream of status calls."""
    last = tx.etpay_status_checked_at
    return bool(last) and fields.Datetime.now() - last < STATUS_CHECK_INTERVAL


def apply_outcome(tx, outcome, payment_token="", payment_status="", amount=None):
    """Set the transaction's state from an outcome ETpay signed or answered."""
    if tx.state == "done":
        if outcome != const.OUTCOME_DONE:
            _logger.warning("ETpay: %s is done; a later %r ignored", tx.reference, payment_status)
        elif payment_token and tx.etpay_payment_token and payment_token != tx.etpay_payment_token:
            # Two transfers for one order: money to give back, for a person to see.
            _logger.warning(
                "ETpay: %s is done, and ETpay reports another payment of it: review and refund",
                tx.reference,
            )
        return
    settled = tx.state not in ("draft", "pending")
    if outcome == const.OUTCOME_DONE:
        if amount is not None and amount != round(tx.amount):
            _logger.warning("ETpay: %s paid %s, expected %s", tx.reference, amount, tx.amount)
            tx._record_etpay_payment(payment_token, payment_status)
            _set_mismatch_error(tx)
            return
        if settled and tx.etpay_payment_status == const.STATUS_SUCCESS:
            return  # already refused for its amount: stays an error for a person to review
        tx._record_etpay_payment(payment_token, payment_status)
        if settled:
            # ETpay's signature says the money moved after we closed the payment
            # (expired, or an earlier failure): it is recorded, never ignored.
            _logger.warning("ETpay confirmed %s after it was %s", tx.reference, tx.state)
            tx._set_done(
                tx.env._("ETpay confirmed this payment after it had been closed."),
                extra_allowed_states=("cancel",),
            )
        else:
            tx._set_done()
        return
    if settled:
        return  # a failure after the fact changes nothing already decided
    tx._record_etpay_payment(payment_token, payment_status)
    if outcome == const.OUTCOME_CANCELED:
        tx._set_canceled(tx.env._("The payment was cancelled on ETpay. No payment was made."))
    elif outcome == const.OUTCOME_FAILED:
        tx._set_error(
            tx.env._(
                "Your bank did not complete the transfer (ETpay status: %(status)s). "
                "No payment was made.",
                status=payment_status,
            )
        )
    else:
        set_unknown(tx)


def set_unknown(tx):
    tx._set_pending(
        tx.env._(
            "ETpay has not confirmed the transfer yet. We are checking with ETpay; "
            "you will not be charged twice."
        )
    )


def _set_mismatch_error(tx):
    # Money may have moved for something else than this order: never done.
    tx._set_error(
        tx.env._(
            "ETpay's answer does not match this payment (amount). "
            "Our staff will review it; please contact us before paying again."
        )
    )


def resolve_with_status(tx, abandon_if_unpaid=False):
    """Ask ETpay what happened to `tx`'s session and act on the answer."""
    tx.etpay_status_checked_at = fields.Datetime.now()
    try:
        payments = tx_client(tx).payment_status(
            session_token=tx.provider_reference, order_id=tx.reference
        )
    except (api.EtpayUnknownOutcome, api.EtpayRejected) as error:
        # Neither says anything about the payment: it stays as it is.
        _logger.warning("ETpay: status of %s not known: %s", tx.reference, error)
        if tx.state == "draft":
            set_unknown(tx)
        return
    ours = api.payment_for_session(payments, tx.provider_reference, tx.reference)
    paid = [payment for payment in ours if payment.outcome == const.OUTCOME_DONE]
    if len(paid) > 1:
        _logger.warning("ETpay lists %s payments for %s: review", len(paid), tx.reference)
    if paid:
        payment = paid[0]
        apply_outcome(
            tx, const.OUTCOME_DONE, payment.payment_token, payment.payment_status, payment.amount
        )
        return
    if any(payment.outcome == const.OUTCOME_UNKNOWN for payment in ours):
        set_unknown(tx)
        return
    if ours:
        last = ours[-1]
        apply_outcome(tx, last.outcome, last.payment_token, last.payment_status)
    elif abandon_if_unpaid:
        tx._set_canceled(
            tx.env._("The ETpay session expired without a payment. No payment was made.")
        )
    else:
        set_unknown(tx)


# === Cron === #


def check_pending(tx_model):
    """Ask ETpay about payments left pending; cancel those whose session is over unpaid."""
    now = fields.Datetime.now()
    settled = tx_model
    providers = tx_model.env["payment.provider"].sudo().search([("code", "=", "etpay")])
    for provider in providers:
        delay = timedelta(minutes=provider.etpay_status_check_delay)
        lifetime = timedelta(minutes=provider.etpay_session_lifetime)
        txs = tx_model.search(
            [
                ("provider_id", "=", provider.id),
                ("state", "in", ("draft", "pending")),
                ("provider_reference", "!=", False),
                ("create_date", "<=", now - delay),
                ("create_date", ">=", now - timedelta(days=const.STATUS_WINDOW_DAYS)),
            ]
        )
        settled |= pending_sweep.sweep(
            txs,
            lambda tx, lifetime=lifetime: resolve_with_status(
                tx, abandon_if_unpaid=tx.create_date <= now - lifetime
            ),
            "ETpay",
        )
    return settled
