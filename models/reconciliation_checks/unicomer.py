"""Unicomer: the daily conciliación (`payment.unicomer.conciliation`) of each day of
the range, fetched again, its lines read as findings.

The conciliation's days are Unicomer's business days (the payments' fch_proceso,
Ecuador's time). Fetching a day also settles collections Odoo was still waiting on
(that is what the conciliation does); its lines then say "resolved", which here
is simply a match.
"""

from datetime import timedelta

from ...gateways import unicomer_api
from .findings import CheckFailed, Finding

STATUS_OF_KIND = {
    "matched": "matched",
    "resolved": "matched",
    "amount_mismatch": "amount_mismatch",
    "state_mismatch": "state_mismatch",
    "reference_mismatch": "state_mismatch",
    "unknown_to_odoo": "missing_odoo",
    "missing_at_unicomer": "missing_gateway",
}


def _days(run):
    day = run.date_from
    while day <= run.date_to:
        yield day
        day += timedelta(days=1)


def check(run):
    provider = run.provider_id
    environment = provider._latam_environment()
    Conciliation = run.env["payment.unicomer.conciliation"].sudo()
    findings = {}
    for day in _days(run):
        record = Conciliation._for_day(provider, environment, day)
        if not record._lock_for_fetch():
            raise CheckFailed(
                run.env._(
                    "Unicomer's conciliation of %s is being fetched right now; try again "
                    "in a moment.",
                    day,
                )
            )
        if not record._fetch():
            # The run's savepoint is rolled back: the conciliation keeps its last fetch.
            raise CheckFailed(f"{day}: {record.error_message}")
        for line in record.line_ids:
            _add(findings, _finding(run, record, line))
    return list(findings.values())


def _add(findings, finding):
    """One finding per key: a receipt listed on two days (Unicomer dating it on
    another day than Odoo) keeps its disagreement, never a match hiding it."""
    known = findings.get(finding.key)
    if known is None or (known.status == "matched" and finding.status != "matched"):
        findings[finding.key] = finding
    elif finding.status != "matched" and finding.explanation not in known.explanation:
        known.explanation = f"{known.explanation} {finding.explanation}"


def _money(value):
    return unicomer_api.money(value or 0)


def _finding(run, record, line):
    env = run.env
    tx = line.transaction_id
    status = STATUS_OF_KIND[line.kind]
    explanation = line.explanation or ""
    if line.kind == "reference_mismatch":
        explanation = env._("Reference mismatch: %s", explanation)
    elif line.kind == "state_mismatch":
        explanation = env._("State mismatch: %s", explanation)
    odoo_state = ""
    if tx:
        states = dict(line._fields["odoo_state"]._description_selection(run.env))
        odoo_state = states.get(line.odoo_state, line.odoo_state or "")
    gateway_state = ""
    if line.has_unicomer_row:
        gateway_state = line.unicomer_state_label or line.unicomer_state or ""
    key = line.receipt_number or (f"idtrx:{line.idtrx}" if line.idtrx else f"line:{line.id}")
    return Finding(
        key=key,
        status=status,
        explanation=explanation,
        transaction_id=tx.id or None,
        reference=tx.reference or line.receipt_number or "",
        gateway_reference=line.idtrx or "",
        odoo_amount=_money(line.odoo_amount) if tx else None,
        gateway_amount=_money(line.unicomer_amount) if line.has_unicomer_row else None,
        odoo_state=odoo_state,
        gateway_state=gateway_state,
        date=record.date,
    )
