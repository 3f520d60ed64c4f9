"""The daily conciliación with Unicomer (CU-02): what each side recorded for a day.

Unicomer lists every payment of a business day (always asked for in all states:
`estado=0` means "all", shared/docs/unicomer.md §4 #10); Odoo holds its own
collections of that day (the date of their `fch_proceso`, Ecuador's local
time). Matching them on the receipt number (num_recibo), then on Unicomer's
idtrx, gives the amount to remit to Unicomer and the exception queue: what one
side has and the other lacks or records otherwise.

It is also the last resort for collections whose outcome Odoo never learned
(§5 item 3): a row settles a transaction still waiting, as consultarpago would
have. Conflicts (booked in Odoo but reversed at Unicomer, zombies...) are never
fixed here: they become lines a person follows up.
"""

import logging
from collections import defaultdict
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import psycopg2

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..gateways import unicomer_api as api_client
from ..gateways import unicomer_const as const
from ..gateways.codes import UNICOMER
from . import pending_sweep, unicomer_collection
from .notifications import RELOAD, notification

_logger = logging.getLogger(__name__)

_ZERO = Decimal("0.00")

KINDS = [
    ("matched", "Matched"),
    ("resolved", "Settled by the conciliation"),
    ("missing_at_unicomer", "Missing at Unicomer"),
    ("unknown_to_odoo", "Unknown to Odoo"),
    ("amount_mismatch", "Amount mismatch"),
    ("state_mismatch", "State mismatch"),
    ("reference_mismatch", "Reference mismatch"),
]
# Lines where both sides agree (after the conciliation's own settling): the rest
# is the exception queue.
AGREEING_KINDS = ("matched", "resolved")

UNICOMER_STATES = [
    ("not_found", "Does not exist"),
    ("registered", "Registered"),
    ("synchronized", "Synchronized"),
    ("zombie", "Zombie (not registered)"),
    ("reversed", "Reversed"),
    ("sync_problem", "Synchronization problem"),
]

ENVIRONMENTS = [("test", "Development"), ("prod", "Production")]

# Odoo holds the cash of a collection in these transaction states.
ODOO_COLLECTED_STATES = ("authorized", "done")
# Unicomer states that tell a waiting transaction its outcome (2 and 99 do not:
# a person follows them up).
SETTLING_STATES = (const.REGISTERED, const.SYNCHRONIZED, const.REVERSED)
# A collection Odoo believes (or may believe) Unicomer holds: Unicomer must list it.
EXPECTED_STATUSES = ("sending", "unknown", "registered", "synchronized", "zombie", "sync_problem")

_LOCK_NOWAIT = "SELECT id FROM payment_unicomer_conciliation WHERE id = %s FOR UPDATE NOWAIT"


def _decimal(value):
    """A stored float amount as Decimal to the cent (money is never compared as float)."""
    return api_client.money(value or 0)


def _local_yesterday():
    """Yesterday in Ecuador: the business day a morning cron concilies."""
    return datetime.now(ZoneInfo(const.LOCAL_TIMEZONE)).date() - timedelta(days=1)


class UnicomerConciliation(models.Model):
    _name = "payment.unicomer.conciliation"
    _description = "Unicomer Daily Conciliation"
    _order = "date desc, id desc"

    name = fields.Char(compute="_compute_name", store=True)
    provider_id = fields.Many2one(
        "payment.provider",
        string="Unicomer Account",
        required=True,
        ondelete="cascade",
        domain="[('code', '=', 'unicomer')]",
        index=True,
    )
    company_id = fields.Many2one(related="provider_id.company_id", store=True)
    environment = fields.Selection(
        ENVIRONMENTS,
        string="Unicomer Environment",
        required=True,
        help="Unicomer's environment whose payments are concilied: a provider in test mode "
        "collects in Development.",
    )
    date = fields.Date(
        string="Business Day",
        required=True,
        default=lambda self: _local_yesterday(),
        help="The day of the payments' fch_proceso, in Ecuador's local time.",
    )
    state = fields.Selection(
        [("draft", "Not fetched"), ("fetched", "Fetched"), ("failed", "Failed")],
        required=True,
        default="draft",
        readonly=True,
    )
    fetched_at = fields.Datetime(string="Last Fetch", readonly=True)
    error_message = fields.Text(
        string="Error",
        readonly=True,
        help="Why the last fetch failed. The lines, if any, come from an earlier fetch.",
    )
    currency_id = fields.Many2one(
        "res.currency", required=True, readonly=True, default=lambda self: self.env.ref("base.USD")
    )
    line_ids = fields.One2many(
        "payment.unicomer.conciliation.line", "conciliation_id", string="Lines", readonly=True
    )
    difference_line_ids = fields.One2many(
        "payment.unicomer.conciliation.line",
        "conciliation_id",
        string="Differences",
        domain=[("kind", "!=", "matched")],
        readonly=True,
    )
    summary_ids = fields.One2many(
        "payment.unicomer.conciliation.summary", "conciliation_id", readonly=True
    )
    locality_summary_ids = fields.One2many(
        "payment.unicomer.conciliation.summary",
        "conciliation_id",
        string="By Collection Point",
        domain=[("kind", "=", "locality")],
        readonly=True,
    )
    cashier_summary_ids = fields.One2many(
        "payment.unicomer.conciliation.summary",
        "conciliation_id",
        string="By Cashier",
        domain=[("kind", "=", "cashier")],
        readonly=True,
    )

    # Totals, from the lines as fetched.
    odoo_count = fields.Integer(
        string="Collected in Odoo (#)", compute="_compute_totals", store=True
    )
    odoo_amount = fields.Monetary(string="Collected in Odoo", compute="_compute_totals", store=True)
    unicomer_count = fields.Integer(
        string="Collected at Unicomer (#)", compute="_compute_totals", store=True
    )
    unicomer_amount = fields.Monetary(
        string="Collected at Unicomer",
        compute="_compute_totals",
        store=True,
        help="Payments Unicomer holds as registered (0) or synchronized (1).",
    )
    reversed_count = fields.Integer(string="Reversed (#)", compute="_compute_totals", store=True)
    reversed_amount = fields.Monetary(string="Reversed", compute="_compute_totals", store=True)
    commission_amount = fields.Monetary(string="Commission", compute="_compute_totals", store=True)
    remit_amount = fields.Monetary(
        string="To Remit to Unicomer",
        compute="_compute_totals",
        store=True,
        help="Collections both sides agree on and Unicomer holds, net of the collection "
        "commission. Exceptions are left out until they are cleared.",
    )
    exception_count = fields.Integer(string="Exceptions", compute="_compute_totals", store=True)

    _sql_constraints = [
        (
            "one_per_day",
            "UNIQUE(provider_id, environment, date)",
            "This Unicomer account and environment already have a conciliation of that day.",
        )
    ]

    @api.depends("provider_id.name", "environment", "date")
    def _compute_name(self):
        for record in self:
            name = f"{record.provider_id.name or ''} {record.date or ''}".strip()
            if record.environment == "test":
                name = self.env._("%s (development)", name)
            record.name = name

    @api.depends(
        "line_ids.kind",
        "line_ids.odoo_collected",
        "line_ids.unicomer_collected",
        "line_ids.unicomer_state",
        "line_ids.odoo_amount",
        "line_ids.unicomer_amount",
        "line_ids.commission_amount",
        "line_ids.remit_amount",
    )
    def _compute_totals(self):
        for record in self:
            lines = record.line_ids
            odoo = lines.filtered("odoo_collected")
            unicomer = lines.filtered("unicomer_collected")
            reversed_ = lines.filtered(lambda line: line.unicomer_state == "reversed")
            record.odoo_count = len(odoo)
            record.odoo_amount = _sum(odoo, "odoo_amount")
            record.unicomer_count = len(unicomer)
            record.unicomer_amount = _sum(unicomer, "unicomer_amount")
            record.reversed_count = len(reversed_)
            record.reversed_amount = _sum(reversed_, "unicomer_amount")
            record.commission_amount = _sum(lines, "commission_amount")
            record.remit_amount = _sum(lines, "remit_amount")
            record.exception_count = len(
                lines.filtered(lambda line: line.kind not in AGREEING_KINDS)
            )

    @api.model_create_multi
    def create(self, vals_list):
        # Without the form's onchange (the cron, RPC): the provider's own environment.
        for vals in vals_list:
            if not vals.get("environment") and vals.get("provider_id"):
                provider = self.env["payment.provider"].browse(vals["provider_id"])
                vals["environment"] = provider._latam_environment()
        return super().create(vals_list)

    @api.onchange("provider_id")
    def _onchange_provider_id(self):
        if self.provider_id:
            self.environment = self.provider_id._latam_environment()

    # === ACTIONS === #

    def action_fetch(self):
        """Ask Unicomer for the day's payments and concile them with Odoo's collections."""
        self.check_access("write")
        failures = []
        for record in self:
            if not record._lock_for_fetch():
                raise UserError(
                    self.env._("%s is being fetched right now; try again in a moment.", record.name)
                )
            if not record._fetch():
                failures.append(record)
        if failures:
            # Not an exception: the failure must stay recorded on the conciliation.
            message = "\n".join(f"{record.name}: {record.error_message}" for record in failures)
            return notification(message, "danger", RELOAD)
        return notification(self.env._("Conciliation fetched from Unicomer."), "success", RELOAD)

    # === BUSINESS METHODS === #

    def _lock_for_fetch(self):
        """Lock the record, so that two fetches of a day never interleave their lines."""
        self.ensure_one()
        self.flush_recordset()
        try:
            with self.env.cr.savepoint(flush=False):
                self.env.cr.execute(_LOCK_NOWAIT, [self.id], log_exceptions=False)
        except (psycopg2.errors.LockNotAvailable, psycopg2.errors.SerializationFailure):
            # Another fetch holds it, or changed it since our snapshot.
            return False
        return True

    def _fetch(self):
        """Fetch and concile this day; return False (and record why) when Unicomer failed."""
        self.ensure_one()
        record = self.sudo()
        try:
            client = unicomer_collection.client_for(record.provider_id, record.environment)
            rows = client.conciliation(record.date)
        except api_client.UnicomerError as error:
            _logger.warning("Unicomer: conciliation %s failed (%s)", record.name, error)
            record.write(
                {
                    "state": "failed",
                    "fetched_at": fields.Datetime.now(),
                    "error_message": self.env._(
                        "Unicomer's conciliation could not be fetched: %s",
                        unicomer_collection.unicomer_message(self.env, error),
                    ),
                }
            )
            return False
        settled = record._rebuild(rows)
        if settled:
            # Settled collections are booked by the payment post-processing.
            self.env.ref("payment.cron_post_process_payment_tx")._trigger()
        return True

    def _rebuild(self, rows):
        """Replace the lines with the matching of `rows` (ConciliationRow) against
        Odoo's collections; return the transactions the conciliation settled."""
        day_txs = self._day_transactions()
        Line = self.env["payment.unicomer.conciliation.line"]
        values, settled, matched = [], self.env["payment.transaction"], set()
        for row, tx in self._match(rows, day_txs):
            if tx:
                matched.add(tx.id)
                line, was_settled = self._compare(row, tx)
                values.append(line)
                if was_settled:
                    settled |= tx
            else:
                values.append(self._unknown_to_odoo(row))
        for tx in day_txs:
            if tx.id not in matched and _expected_at_unicomer(tx):
                values.append(self._missing_at_unicomer(tx))
        self.line_ids.unlink()
        self.summary_ids.unlink()
        lines = Line.create([{**line, "conciliation_id": self.id} for line in values])
        self.env["payment.unicomer.conciliation.summary"].create(self._summaries(lines))
        self.write(
            {"state": "fetched", "fetched_at": fields.Datetime.now(), "error_message": False}
        )
        return settled

    def _transaction_domain(self):
        return [
            ("provider_id", "=", self.provider_id.id),
            ("unicomer_environment", "=", self.environment),
            ("unicomer_status", "!=", False),
        ]

    def _day_transactions(self):
        """Odoo's collections dated (by their local fch_proceso) on this day."""
        return (
            self.env["payment.transaction"]
            .sudo()
            .search(
                [
                    *self._transaction_domain(),
                    ("unicomer_processed_at", "=like", f"{self.date:%Y-%m-%d}%"),
                ],
                order="id",
            )
        )

    def _match(self, rows, day_txs):
        """[(row, tx or None)]: on num_recibo first, then on idtrx. A row naming a
        collection Odoo dates on another day still finds it (and says so)."""
        by_receipt = {tx.reference: tx for tx in day_txs}
        by_idtrx = {tx.provider_reference: tx for tx in day_txs if tx.provider_reference}
        receipts = {row.receipt_number for row in rows if row.receipt_number} - set(by_receipt)
        idtrxs = {str(row.transaction_id) for row in rows if row.transaction_id} - set(by_idtrx)
        if receipts or idtrxs:
            others = day_txs.search(
                [
                    *self._transaction_domain(),
                    "|",
                    ("reference", "in", list(receipts)),
                    ("provider_reference", "in", list(idtrxs)),
                ]
            )
            for tx in others:
                by_receipt.setdefault(tx.reference, tx)
                if tx.provider_reference:
                    by_idtrx.setdefault(tx.provider_reference, tx)
        used, pairs = set(), []
        for row in rows:
            tx = by_receipt.get(row.receipt_number) if row.receipt_number else None
            if tx is None and row.transaction_id:
                tx = by_idtrx.get(str(row.transaction_id))
            if tx is not None and tx.id in used:
                tx = None  # Unicomer lists it twice: the second row is Unicomer's alone
            if tx is not None:
                used.add(tx.id)
            pairs.append((row, tx))
        return pairs

    def _compare(self, row, tx):
        """(line values, whether the conciliation settled `tx`) for a matched pair."""
        conflict = self._reference_conflict(row, tx) or self._amount_conflict(row, tx)
        if conflict:
            kind, explanation = conflict
            return self._line(kind, explanation, row, tx), False
        if _is_behind(tx, row):
            before = _state_label(tx)
            outcome = self._settle(tx, row)
            if outcome:
                explanation = self.env._(
                    "Settled by the conciliation: %(before)s → %(after)s.",
                    before=before,
                    after=_state_label(tx),
                )
                return self._line("resolved", explanation, row, tx), True
            if outcome is None:
                explanation = self.env._(
                    "Odoo holds it as %(odoo)s and it is being processed elsewhere: "
                    "fetch again to settle it.",
                    odoo=_state_label(tx),
                )
                return self._line("state_mismatch", explanation, row, tx), False
        kind, explanation = self._compare_states(row, tx)
        return self._line(kind, explanation, row, tx), False

    def _reference_conflict(self, row, tx):
        if row.receipt_number and row.receipt_number != tx.reference:
            return "reference_mismatch", self.env._(
                "Unicomer's idtrx %(idtrx)s carries receipt %(theirs)s; Odoo's is %(ours)s.",
                idtrx=row.transaction_id,
                theirs=row.receipt_number,
                ours=tx.reference,
            )
        if (
            row.transaction_id
            and tx.provider_reference
            and str(row.transaction_id) != (tx.provider_reference)
        ):
            return "reference_mismatch", self.env._(
                "Unicomer lists this receipt with idtrx %(theirs)s; Odoo holds %(ours)s.",
                theirs=row.transaction_id,
                ours=tx.provider_reference,
            )
        return None

    def _amount_conflict(self, row, tx):
        odoo_amount = _decimal(tx.amount)
        if row.amount is None:
            return "amount_mismatch", self.env._("Unicomer's amount is unreadable.")
        if row.amount != odoo_amount:
            return "amount_mismatch", self.env._(
                "Unicomer records %(theirs)s, Odoo %(ours)s.", theirs=row.amount, ours=odoo_amount
            )
        return None

    def _settle(self, tx, row):
        """Make a waiting `tx` follow Unicomer's row. True when it moved, False when
        it did not need to, None when another process holds it right now."""
        # Not waiting for the lock: a cashier or the follow-up cron holding it is
        # settling it already, and a cron run must not fail on one busy collection.
        if not tx._latam_lock(wait=False):
            return None
        if not _is_behind(tx, row):
            return False
        before = (tx.state, tx.unicomer_status)
        unicomer_collection.apply_state(tx, row.state, row.state_label, row.transaction_id)
        return (tx.state, tx.unicomer_status) != before

    def _compare_states(self, row, tx):
        """(kind, explanation) once the amounts and references agree."""
        odoo, unicomer = _state_label(tx), row.state_label or str(row.state)
        if row.state in const.REVIEW_STATES:
            return "state_mismatch", self.env._(
                "Unicomer reports %(state)s: the payment is not (or not surely) registered "
                "there. Odoo holds it as %(odoo)s; follow it up with Unicomer.",
                state=unicomer,
                odoo=odoo,
            )
        if row.state == const.REVERSED:
            if tx.state == "cancel":
                return "matched", self.env._("Reversed on both sides.")
            return "state_mismatch", self.env._(
                "Unicomer reversed it; Odoo holds it as %(odoo)s.", odoo=odoo
            )
        if row.state in const.COLLECTED_STATES:
            if tx.state in ODOO_COLLECTED_STATES:
                return "matched", self.env._("Collected on both sides.")
            return "state_mismatch", self.env._(
                "Unicomer holds it as %(state)s; Odoo as %(odoo)s.", state=unicomer, odoo=odoo
            )
        return "state_mismatch", self.env._(
            "Unicomer's state %(state)s is not one Odoo knows.", state=row.state
        )

    def _unknown_to_odoo(self, row):
        explanation = self.env._(
            "Unicomer lists a payment Odoo has no collection for (%(state)s).",
            state=row.state_label or row.state,
        )
        return self._line("unknown_to_odoo", explanation, row=row)

    def _missing_at_unicomer(self, tx):
        explanation = self.env._(
            "Unicomer does not list this collection; Odoo holds it as %(odoo)s.",
            odoo=_state_label(tx),
        )
        return self._line("missing_at_unicomer", explanation, tx=tx)

    def _line(self, kind, explanation, row=None, tx=None):
        """The values of one line: a snapshot of both sides as the fetch saw them."""
        values = {"kind": kind, "explanation": explanation}
        if tx:
            values.update(
                {
                    "transaction_id": tx.id,
                    "receipt_number": tx.reference,
                    "idtrx": tx.provider_reference or False,
                    "credit_id": tx.unicomer_credit_id,
                    "odoo_amount": float(_decimal(tx.amount)),
                    "odoo_state": tx.state,
                    "odoo_status": tx.unicomer_status,
                    "odoo_collected": tx.state in ODOO_COLLECTED_STATES,
                    "cashier_id": tx.unicomer_cashier_id.id,
                    "locality": tx.unicomer_locality,
                    "processed_at": tx.unicomer_processed_at,
                }
            )
        if row:
            values.update(
                {
                    "receipt_number": row.receipt_number or values.get("receipt_number"),
                    "idtrx": str(row.transaction_id) if row.transaction_id else values.get("idtrx"),
                    "credit_id": str(row.credit_id) if row.credit_id else values.get("credit_id"),
                    "has_unicomer_row": True,
                    "unicomer_amount": float(row.amount) if row.amount is not None else 0.0,
                    "unicomer_state": const.STATE_KEYS.get(row.state, False),
                    "unicomer_state_code": row.state,
                    "unicomer_state_label": row.state_label,
                    "unicomer_collected": row.state in const.COLLECTED_STATES,
                    "processed_at": values.get("processed_at") or row.processed_at,
                    "registered_at": row.registered_at,
                }
            )
        if tx and row and kind in AGREEING_KINDS and row.state in const.COLLECTED_STATES:
            # What the collector owes Unicomer for it: the amount, less its commission.
            commission = _decimal(tx.unicomer_commission_amount)
            values["commission_amount"] = float(commission)
            values["remit_amount"] = float(row.amount - commission)
        return values

    def _summaries(self, lines):
        """Per collection point and per cashier: what was collected and what is owed."""
        groups = defaultdict(lambda: self.env["payment.unicomer.conciliation.line"])
        for line in lines.filtered("transaction_id"):
            groups["locality", line.locality or ""] |= line
            groups["cashier", line.cashier_id.id] |= line
        values = []
        for (kind, key), group in sorted(
            groups.items(), key=lambda item: (item[0][0], str(item[0][1]))
        ):
            collected = group.filtered("odoo_collected")
            if kind == "locality":
                name = key or self.env._("No collection point")
                cashier = False
            else:
                name = group[:1].cashier_id.name or self.env._("No cashier")
                cashier = key or False
            values.append(
                {
                    "conciliation_id": self.id,
                    "kind": kind,
                    "name": name,
                    "cashier_id": cashier,
                    "count": len(collected),
                    "amount": _sum(collected, "odoo_amount"),
                    "commission_amount": _sum(group, "commission_amount"),
                    "remit_amount": _sum(group, "remit_amount"),
                    "exception_count": len(
                        group.filtered(lambda line: line.kind not in AGREEING_KINDS)
                    ),
                }
            )
        return values

    # === CRON === #

    @api.model
    def _cron_fetch_yesterday(self):
        """Concile yesterday (Ecuador's day) for every active Unicomer account."""
        day = _local_yesterday()
        providers = (
            self.env["payment.provider"]
            .sudo()
            .search([("code", "=", UNICOMER), ("state", "in", ("test", "enabled"))])
        )
        for provider in providers:
            try:
                # One account failing (or a bug on one day's data) must not stop the others.
                with self.env.cr.savepoint():
                    record = self.sudo()._for_day(provider, provider._latam_environment(), day)
                    if record._lock_for_fetch():
                        record._fetch()
            except Exception:
                _logger.exception("Unicomer: conciliation of %s for %s failed", provider.name, day)
            # Each account's day is kept on its own (not in tests' single transaction).
            pending_sweep._commit(self.env)

    @api.model
    def _for_day(self, provider, environment, day):
        domain = [
            ("provider_id", "=", provider.id),
            ("environment", "=", environment),
            ("date", "=", day),
        ]
        return self.search(domain, limit=1) or self.create(
            {"provider_id": provider.id, "environment": environment, "date": day}
        )


class UnicomerConciliationLine(models.Model):
    _name = "payment.unicomer.conciliation.line"
    _description = "Unicomer Conciliation Line"
    _order = "conciliation_id, id"
    _rec_name = "receipt_number"

    conciliation_id = fields.Many2one(
        "payment.unicomer.conciliation", required=True, ondelete="cascade", index=True
    )
    currency_id = fields.Many2one(related="conciliation_id.currency_id")
    kind = fields.Selection(KINDS, required=True, readonly=True)
    explanation = fields.Char(readonly=True)
    receipt_number = fields.Char(string="Receipt (num_recibo)", readonly=True)
    idtrx = fields.Char(string="Unicomer idtrx", readonly=True)
    credit_id = fields.Char(string="Credit (secuencial)", readonly=True)
    transaction_id = fields.Many2one(
        "payment.transaction", string="Collection", readonly=True, index="btree_not_null"
    )
    odoo_amount = fields.Monetary(string="Odoo Amount", readonly=True)
    odoo_state = fields.Selection(
        selection="_selection_odoo_state", string="Odoo State", readonly=True
    )
    odoo_status = fields.Selection(
        selection="_selection_odoo_status", string="Odoo's Unicomer State", readonly=True
    )
    odoo_collected = fields.Boolean(string="Collected in Odoo", readonly=True)
    has_unicomer_row = fields.Boolean(string="Listed by Unicomer", readonly=True)
    unicomer_amount = fields.Monetary(string="Unicomer Amount", readonly=True)
    unicomer_state = fields.Selection(UNICOMER_STATES, string="Unicomer State", readonly=True)
    unicomer_state_code = fields.Integer(string="Unicomer State Code", readonly=True)
    unicomer_state_label = fields.Char(string="Unicomer Says", readonly=True)
    unicomer_collected = fields.Boolean(string="Collected at Unicomer", readonly=True)
    cashier_id = fields.Many2one("res.users", string="Cashier", readonly=True)
    locality = fields.Char(string="Collection Point", readonly=True)
    processed_at = fields.Char(string="Processed At (fch_proceso)", readonly=True)
    registered_at = fields.Char(string="Registered At (fch_registro)", readonly=True)
    commission_amount = fields.Monetary(string="Commission", readonly=True)
    remit_amount = fields.Monetary(string="To Remit", readonly=True)

    def _selection_odoo_state(self):
        return self.env["payment.transaction"]._fields["state"].selection

    def _selection_odoo_status(self):
        return self.env["payment.transaction"]._fields["unicomer_status"].selection


class UnicomerConciliationSummary(models.Model):
    _name = "payment.unicomer.conciliation.summary"
    _description = "Unicomer Conciliation Summary"
    _order = "conciliation_id, kind, name"

    conciliation_id = fields.Many2one(
        "payment.unicomer.conciliation", required=True, ondelete="cascade", index=True
    )
    currency_id = fields.Many2one(related="conciliation_id.currency_id")
    kind = fields.Selection(
        [("locality", "Collection Point"), ("cashier", "Cashier")], required=True, readonly=True
    )
    name = fields.Char(readonly=True)
    cashier_id = fields.Many2one("res.users", string="Cashier", readonly=True)
    count = fields.Integer(string="Collections", readonly=True)
    amount = fields.Monetary(string="Collected", readonly=True)
    commission_amount = fields.Monetary(string="Commission", readonly=True)
    remit_amount = fields.Monetary(string="Net to Remit", readonly=True)
    exception_count = fields.Integer(string="Exceptions", readonly=True)


# === helpers === #


def _sum(lines, field_name):
    return float(sum((_decimal(value) for value in lines.mapped(field_name)), _ZERO))


def _is_behind(tx, row):
    """Whether `tx` still waits for what Unicomer's row already knows."""
    if row.state not in SETTLING_STATES:
        return False
    if tx.state in ("draft", "pending"):
        return True
    return tx.state == "authorized" and row.state != const.REGISTERED


def _expected_at_unicomer(tx):
    return tx.state in ODOO_COLLECTED_STATES or tx.unicomer_status in EXPECTED_STATUSES


def _state_label(tx):
    states = dict(tx._fields["state"]._description_selection(tx.env))
    statuses = dict(tx._fields["unicomer_status"]._description_selection(tx.env))
    return f"{states.get(tx.state, tx.state)} / {statuses.get(tx.unicomer_status, '-')}"
