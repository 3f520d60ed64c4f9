"""What a channel's check finds: the vocabulary shared by the checkers and the runs."""

from dataclasses import dataclass
from decimal import Decimal

CHANNELS = [
    ("webpay", "Webpay"),
    ("etpay", "ETpay"),
    ("cajavecina", "Caja Vecina"),
    ("unicomer", "Unicomer"),
]
STATUSES = [
    ("matched", "Matched"),
    ("missing_gateway", "Missing at the gateway"),
    ("missing_odoo", "Missing in Odoo"),
    ("amount_mismatch", "Amount mismatch"),
    ("state_mismatch", "State mismatch"),
    # Nothing could be compared (e.g. too old to ask): opens and closes no exception.
    ("unverified", "Not verifiable"),
]


class CheckFailed(Exception):
    """The gateway could not be asked: the run fails, with this message, and no line."""


@dataclass
class Finding:
    """One thing a checker compared. `key` names it across runs (e.g. the
    transaction reference, or the gateway's own id when Odoo has nothing)."""

    key: str
    status: str
    explanation: str = ""
    transaction_id: int = None
    reference: str = ""
    gateway_reference: str = ""
    odoo_amount: Decimal = None
    gateway_amount: Decimal = None
    odoo_state: str = ""
    gateway_state: str = ""
    date: object = None


def with_unanswered(findings, asked, unanswered, *, nothing_answered, not_answered):
    """`findings` plus one finding per payment the gateway did not answer about
    (`unanswered`: (transaction, reason) pairs, made by `not_answered(tx, reason)`).
    When none of the `asked` calls got an answer there is nothing to compare: the
    check fails with `nothing_answered(reason)` and the run changes nothing."""
    if asked and len(unanswered) == asked:
        raise CheckFailed(nothing_answered(unanswered[0][1]))
    return findings + [not_answered(tx, reason) for tx, reason in unanswered]
