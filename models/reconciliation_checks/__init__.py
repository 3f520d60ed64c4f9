"""One remote check per channel: `check(run)` yields `latam_reconciliation.Finding`s
for `run.provider_id` and `run.date_from`..`run.date_to`, or raises `CheckFailed`."""

from . import cajavecina, etpay, unicomer, webpay
from .findings import CheckFailed, Finding

CHECKERS = {
    "webpay": webpay.check,
    "etpay": etpay.check,
    "cajavecina": cajavecina.check,
    "unicomer": unicomer.check,
}
