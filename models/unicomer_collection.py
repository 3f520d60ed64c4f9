"""Unicomer collections on `payment.transaction`: register, settle, reverse.

A collection is a transaction whose reference is the receipt number
(`num_recibo`) and whose provider reference is Unicomer's `idtrx`. Its
registrarpago body is frozen when it is created: a resend (only ever after
consultarpago answered "does not exist") is byte for byte the first send, and
its first four fields are the key of a reversal.

Unicomer's states drive the transaction's:

- registered (0, reversible for about three minutes) → authorized;
- synchronized (1) → done, which books the cash as owed to Unicomer;
- reversed (4) → cancelled;
- zombie (2) and sync problem (99) → left where they are, flagged for a person;
- a refusal → error; an outcome we did not see → pending until Unicomer says.
"""

import logging

from odoo import fields
from odoo.exceptions import UserError

from ..gateways import unicomer_api as api
from ..gateways import unicomer_const as const
from . import pending_sweep
from .unicomer_token import DatabaseTokenStore

_logger = logging.getLogger(__name__)

RECEIPT_SEQUENCE = "payment_latam.unicomer_receipt"


def client_for(provider, environment=None, tx=None):
    """A client for `provider` in `environment`, logging each exchange."""
    provider = provider.sudo()
    environment = environment or provider._latam_environment()
    paths = {key: provider[f"unicomer_{key}_path"] for key in const.DEFAULT_PATHS}
    env = provider.env

    def log_exchange(exchange):
        env["payment.unicomer.exchange"].sudo().create(
            {
                "provider_id": provider.id,
                "transaction_id": tx.id if tx else False,
                "operation": exchange.operation,
                "url": exchange.url,
                "user_id": env.uid,
                "http_status": exchange.http_status or 0,
                "error": exchange.error,
                "duration_ms": exchange.duration_ms,
                "request_body": exchange.request_body,
                "response_body": exchange.response_body,
            }
        )

    return api.UnicomerClient(
        provider._latam_setting("api_url", environment),
        provider._latam_setting("username", environment),
        provider._latam_setting("password", environment),
        provider._latam_setting("idcommerce", environment),
        DatabaseTokenStore(provider, environment),
        paths={key: value for key, value in paths.items() if value},
        timeout=(const.TIMEOUT[0], provider.unicomer_read_timeout or const.TIMEOUT[1]),
        on_exchange=log_exchange,
    )


def tx_client(tx):
    return client_for(tx.provider_id, tx.unicomer_environment, tx)


def unicomer_message(env, error):
    """What a cashier reads about an API error: Unicomer's own words, never a body."""
    if isinstance(error, api.UnicomerAuthError):
        return env._(
            "Unicomer refused the collector's credentials. Ask an administrator to check them."
        )
    if isinstance(error, api.UnicomerRejected):
        return env._(
            "Unicomer refused: %(message)s (status %(status)s)",
            message=error.message,
            status=error.status,
        )
    if isinstance(error, api.UnicomerNotSent):
        return env._("Unicomer could not be reached; nothing was sent.")
    return env._("Unicomer's answer could not be read.")


# --- collecting ------------------------------------------------------------------


def collect(provider, **values):
    """Create the collection (see `create_collection`) and send it to Unicomer; return
    the transaction, in whatever state that left it."""
    tx = create_collection(provider, **values)
    dispatch(tx)
    return tx


def create_collection(provider, *, customer_vat, customer_name, credit, amount, locality, user):
    """Check and create, unsent, the collection of `amount` on `credit` (a
    `gateways.unicomer_api.Credit`), its registrarpago body frozen."""
    env = provider.env
    provider = provider.sudo()
    amount = api.money(amount)
    if amount <= 0:
        raise UserError(env._("The amount to collect must be positive."))
    if credit.total_debt and amount > credit.total_debt:
        raise UserError(
            env._(
                "%(amount)s is more than the credit's total debt (%(debt)s).",
                amount=amount,
                debt=credit.total_debt,
            )
        )
    locality = (locality or "").strip()
    if not locality:
        raise UserError(env._("Set the collection point (locality) before collecting."))
    environment = provider._latam_environment()
    reference = env["ir.sequence"].sudo().next_by_code(RECEIPT_SEQUENCE)
    processed_at = api.process_time()
    body = api.payment_body(
        credit_id=credit.credit_id,
        idcommerce=provider._latam_setting("idcommerce", environment),
        processed_at=processed_at,
        amount=amount,
        locality=locality,
        cashier=user.name,
        receipt_number=reference,
    )
    tx = (
        env["payment.transaction"]
        .sudo()
        .create(
            {
                "provider_id": provider.id,
                "payment_method_id": provider.payment_method_ids[:1].id,
                "reference": reference,
                "amount": float(amount),
                "currency_id": env.ref("base.USD").id,
                "partner_id": (provider.unicomer_partner_id or provider.company_id.partner_id).id,
                "operation": "offline",
                "unicomer_environment": environment,
                "unicomer_credit_id": str(credit.credit_id),
                "unicomer_credit_label": credit.invoice,
                "unicomer_item": credit.item,
                "unicomer_customer_vat": customer_vat,
                "unicomer_customer_name": customer_name,
                "unicomer_processed_at": processed_at,
                "unicomer_request_body": body,
                "unicomer_status": "sending",
                "unicomer_locality": locality,
                "unicomer_cashier_id": user.id,
                "unicomer_commission_rate": float(credit.commission_rate),
            }
        )
    )
    return tx


def dispatch(tx):
    """Send a created collection. The attempt is committed before anything leaves:
    whatever happens next, its receipt number and body are on record to be
    consulted, resent or reconciled, and what Unicomer answered is committed too."""
    pending_sweep._commit(tx.env)
    tx._latam_lock()
    if tx.state == "draft" and tx.unicomer_status == "sending":
        send(tx)
    pending_sweep._commit(tx.env)
    return tx


def send(tx):
    """Send the frozen registrarpago body once and act on what comes back."""
    try:
        transaction_id = tx_client(tx).register_payment(tx.sudo().unicomer_request_body)
    except api.UnicomerRejected as error:
        if tx.unicomer_resends:
            # Refusing a resend may mean Unicomer holds the first send after all
            # (e.g. a duplicate receipt): never tell the cashier to give the cash back.
            _mark_unknown(tx, unicomer_message(tx.env, error))
            _flag(tx, tx.env._("Unicomer refused the resend: %s", error.message))
            return
        if error.certain:
            _reject(tx, unicomer_message(tx.env, error))
            return
        # A refusal we could only read by repairing its JSON: believe it once
        # consultarpago confirms Unicomer has no such payment.
        tx.write({"unicomer_refusal_seen": True})
        _mark_unknown(tx, unicomer_message(tx.env, error))
        settle(tx)
    except api.UnicomerNotSent as error:
        if tx.unicomer_resends:
            # A resend that never left: Unicomer still has nothing; ask again later.
            _mark_unknown(tx, unicomer_message(tx.env, error))
        else:
            _record(tx, "not_sent", unicomer_message(tx.env, error))
            tx._set_error(unicomer_message(tx.env, error))
    except api.UnicomerUnknownOutcome as error:
        _logger.warning("Unicomer: outcome of %s unknown (%s); consulting", tx.reference, error)
        _mark_unknown(tx, unicomer_message(tx.env, error))
        settle(tx)
    else:
        apply_state(tx, const.REGISTERED, "Registrado", transaction_id)


def settle(tx):
    """Ask Unicomer (consultarpago) what became of `tx` and follow it. Return True
    when Unicomer answered."""
    key = tx.provider_reference or tx.unicomer_credit_id
    try:
        status = tx_client(tx).payment_status(key, tx.unicomer_processed_at, tx.amount)
    except api.UnicomerError as error:
        _logger.info("Unicomer: consulting %s failed (%s)", tx.reference, type(error).__name__)
        unanswered = tx.unicomer_unanswered_asks + 1
        tx.write(
            {"unicomer_last_check": fields.Datetime.now(), "unicomer_unanswered_asks": unanswered}
        )
        if unanswered == const.MAX_UNANSWERED_ASKS and tx.state in ("draft", "pending"):
            _flag(
                tx,
                tx.env._("Unicomer has not answered about this collection %s times.", unanswered),
            )
        return False
    tx.write({"unicomer_last_check": fields.Datetime.now(), "unicomer_unanswered_asks": 0})
    if status.receipt_number and status.receipt_number != tx.reference:
        # The key matched someone else's payment: not an answer about ours.
        _flag(tx, tx.env._("Unicomer answered about receipt %s.", status.receipt_number))
        return True
    if status.state != const.NOT_FOUND:
        apply_state(tx, status.state, status.detail, status.transaction_id)
        return True
    if tx.provider_reference:
        _flag(tx, tx.env._("Unicomer no longer finds idtrx %s.", tx.provider_reference))
    elif tx.unicomer_refusal_seen:
        _reject(tx, tx.unicomer_status_detail or tx.env._("Unicomer refused the payment."))
    elif not _may_resend(tx):
        # A closed collection (refused, not sent) is only asked about, never sent again.
        return True
    elif tx.unicomer_resends < const.MAX_RESENDS:
        # No commit here: the row lock stays held until the caller's transaction ends.
        tx.write({"unicomer_resends": tx.unicomer_resends + 1})
        tx._unicomer_note(
            tx.env._("Unicomer has no record of this payment: it is sent again, unchanged.")
        )
        send(tx)
    else:
        _flag(
            tx,
            tx.env._(
                "Unicomer still has no record of this payment after %s resends.",
                tx.unicomer_resends,
            ),
        )
    return True


def _may_resend(tx):
    return tx.state in ("draft", "pending") and tx.unicomer_status in ("sending", "unknown")


def apply_state(tx, state, detail=None, transaction_id=None):
    """Make `tx` follow Unicomer's `state` for it."""
    if transaction_id and tx.provider_reference and str(transaction_id) != tx.provider_reference:
        _flag(
            tx,
            tx.env._(
                "Unicomer names idtrx %(new)s, Odoo holds %(old)s.",
                new=transaction_id,
                old=tx.provider_reference,
            ),
        )
        return
    values = {"unicomer_status": const.STATE_KEYS[state], "unicomer_status_detail": detail or False}
    if transaction_id and not tx.provider_reference:
        values["provider_reference"] = str(transaction_id)
    tx.write(values)
    if state in const.REVIEW_STATES:
        _flag(
            tx,
            tx.env._(
                "Unicomer reports %s: no resend is possible, a person must follow it up.",
                detail or state,
            ),
        )
        if tx.state == "draft":
            tx._set_pending()
    elif state == const.REGISTERED:
        tx._set_authorized()
    elif state == const.SYNCHRONIZED:
        tx._set_done()
    elif state == const.REVERSED:
        if tx.state == "done":
            _flag(tx, tx.env._("Unicomer reports this booked collection as reversed."))
        else:
            # An error may have been a refusal we misread: Unicomer's word settles it.
            tx._set_canceled(tx.env._("Reversed at Unicomer."), extra_allowed_states=("error",))


def _record(tx, status, detail):
    tx.write({"unicomer_status": status, "unicomer_status_detail": detail})


def _mark_unknown(tx, detail):
    _record(tx, "unknown", detail)
    if tx.state == "draft":
        tx._set_pending(detail)


def _reject(tx, detail):
    _record(tx, "rejected", detail)
    tx._set_error(detail)


def _flag(tx, reason):
    _logger.warning("Unicomer: %s needs review: %s", tx.reference, reason)
    tx.write({"unicomer_needs_review": True, "unicomer_review_reason": reason})
    tx._unicomer_note(reason)


# --- reversing -------------------------------------------------------------------


def reverse(tx):
    """Reverse (anular) `tx` if Unicomer still allows it: True when reversed, False
    when Unicomer no longer allows it, None when the outcome is unknown."""
    tx._latam_lock()
    if tx.state != "authorized" or tx.unicomer_status != "registered":
        raise UserError(tx.env._("Only a collection Unicomer holds as registered can be reversed."))
    # Re-consult right before: the window closes when Unicomer synchronizes.
    if not settle(tx):
        raise UserError(tx.env._("Unicomer could not be asked about this collection; try again."))
    if tx.unicomer_status != "registered":
        return False
    try:
        tx_client(tx).reverse_payment(tx.provider_reference, tx.unicomer_processed_at, tx.amount)
    except api.UnicomerError as error:
        tx._unicomer_note(tx.env._("Reversal not confirmed: %s", unicomer_message(tx.env, error)))
        # Whatever happened (refused, or an answer lost), Unicomer's state decides.
        if not settle(tx):
            return None  # unknown: neither reversed nor refused as far as we can tell
        return tx.state == "cancel"
    tx.write({"unicomer_reversed_by": tx.env.uid})
    apply_state(tx, const.REVERSED, "Reversado")
    return True


# --- following up ----------------------------------------------------------------


def _needs_follow_up(tx):
    if tx.unicomer_needs_review:
        return False
    if tx.state in ("draft", "pending"):
        return True
    return tx.state == "authorized" and tx.unicomer_status == "registered"


def follow_up(transactions):
    """The cron: settle unknown outcomes, and learn when registered collections
    synchronize (they are booked then)."""
    now = fields.Datetime.now()
    candidates = transactions.search(
        [
            ("latam_channel", "=", "unicomer"),
            ("unicomer_needs_review", "=", False),
            "|",
            "|",
            ("state", "=", "pending"),
            "&",
            ("state", "=", "authorized"),
            ("create_date", "<", now - const.REVERSAL_WINDOW),
            # Created, then the worker died before or while sending: ask, maybe resend.
            "&",
            "&",
            ("state", "=", "draft"),
            ("unicomer_status", "=", "sending"),
            ("create_date", "<", now - const.STALE_SENDING),
        ],
        # The least recently asked first: collections Unicomer keeps not answering about
        # cannot starve the others.
        order="unicomer_last_check asc nulls first, id",
        limit=200,
    )
    return pending_sweep.sweep(candidates, settle, "Unicomer follow-up", is_open=_needs_follow_up)
