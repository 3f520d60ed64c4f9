"""The reconciliation workspace: per channel and date range, what the gateway says
against what Odoo recorded, with an exceptions queue that outlives the runs.

A run asks one channel's checker (`models/reconciliation_checks/<channel>.py`)
for `Finding`s and stores them as lines. Every finding other than "matched"
opens, or finds again, an exception keyed by provider and the finding's key:
a person assigns, notes and resolves it there, and a later run of the same
mismatch leaves it resolved. Resolving records a decision; it never edits a
posted payment.
"""

import logging

from odoo import api, fields, models
from odoo.exceptions import UserError

from .reconciliation_checks import CHECKERS
from .reconciliation_checks.findings import STATUSES, CheckFailed

_logger = logging.getLogger(__name__)

_STATE_CHANGE = "latam_exception_state_change"


class LatamReconciliation(models.Model):
    _name = "payment.latam.reconciliation"
    _description = "Payments LatAm Reconciliation Run"
    _order = "create_date desc, id desc"

    name = fields.Char(compute="_compute_name", store=True)
    provider_id = fields.Many2one(
        "payment.provider",
        required=True,
        domain="[('code', 'in', ('webpay', 'etpay', 'cajavecina', 'unicomer'))]",
        index=True,
    )
    channel = fields.Selection(related="provider_id.code", store=True, index=True)
    company_id = fields.Many2one(related="provider_id.company_id", store=True, index=True)
    date_from = fields.Date(required=True, default=fields.Date.context_today)
    date_to = fields.Date(required=True, default=fields.Date.context_today)
    state = fields.Selection(
        [("draft", "Not run"), ("done", "Done"), ("failed", "Failed")],
        default="draft",
        required=True,
        readonly=True,
    )
    message = fields.Text(readonly=True)
    run_at = fields.Datetime(readonly=True)
    line_ids = fields.One2many("payment.latam.reconciliation.line", "run_id", readonly=True)
    matched_count = fields.Integer(compute="_compute_counts", store=True)
    exception_count = fields.Integer(compute="_compute_counts", store=True)

    @api.depends("provider_id", "date_from", "date_to")
    def _compute_name(self):
        for run in self:
            run.name = f"{run.provider_id.name or ''} {run.date_from or ''} → {run.date_to or ''}"

    @api.depends("line_ids.status")
    def _compute_counts(self):
        for run in self:
            statuses = run.line_ids.mapped("status")
            run.matched_count = statuses.count("matched")
            run.exception_count = len(statuses) - run.matched_count - statuses.count("unverified")

    @api.constrains("date_from", "date_to")
    def _check_dates(self):
        if any(run.date_from > run.date_to for run in self):
            raise UserError(self.env._("The range ends before it starts."))

    def action_run(self):
        for run in self:
            run._run()
        return True

    def _run(self):
        """Replace the lines with the channel checker's findings."""
        self.ensure_one()
        checker = CHECKERS.get(self.channel)
        if checker is None:
            raise UserError(self.env._("No remote check exists for %s yet.", self.channel))
        try:
            with self.env.cr.savepoint():
                findings = list(checker(self.sudo()))
        except CheckFailed as error:
            _logger.warning("Reconciliation %s failed: %s", self.name, error)
            self.write({"state": "failed", "message": str(error), "run_at": fields.Datetime.now()})
            return False
        self.line_ids.unlink()
        lines = self.env["payment.latam.reconciliation.line"].create(
            [self._line_values(finding) for finding in findings]
        )
        self.env["payment.latam.reconciliation.exception"]._track(lines)
        self.write({"state": "done", "message": False, "run_at": fields.Datetime.now()})
        return True

    def _line_values(self, finding):
        def money(value):
            return float(value) if value is not None else False

        return {
            "run_id": self.id,
            "key": finding.key,
            "status": finding.status,
            "explanation": finding.explanation,
            "transaction_id": finding.transaction_id or False,
            "reference": finding.reference,
            "gateway_reference": finding.gateway_reference,
            "odoo_amount": money(finding.odoo_amount),
            "gateway_amount": money(finding.gateway_amount),
            "has_odoo_amount": finding.odoo_amount is not None,
            "has_gateway_amount": finding.gateway_amount is not None,
            "odoo_state": finding.odoo_state,
            "gateway_state": finding.gateway_state,
            "date": finding.date or False,
        }

    def _transactions(self, extra_domain=()):
        """The channel's transactions of the range (by their last state change's day)."""
        return (
            self.env["payment.transaction"]
            .sudo()
            .search(
                [
                    ("provider_id", "=", self.provider_id.id),
                    ("latam_date", ">=", self.date_from),
                    ("latam_date", "<=", self.date_to),
                    ("operation", "!=", "validation"),
                    *extra_domain,
                ],
                order="id",
            )
        )


class LatamReconciliationLine(models.Model):
    _name = "payment.latam.reconciliation.line"
    _description = "Payments LatAm Reconciliation Line"
    _order = "status desc, id"

    run_id = fields.Many2one(
        "payment.latam.reconciliation", required=True, ondelete="cascade", index=True
    )
    provider_id = fields.Many2one(related="run_id.provider_id", store=True, index=True)
    channel = fields.Selection(related="run_id.channel", store=True, index=True)
    company_id = fields.Many2one(related="run_id.company_id", store=True)
    key = fields.Char(required=True, index=True)
    status = fields.Selection(STATUSES, required=True, index=True)
    explanation = fields.Char()
    transaction_id = fields.Many2one("payment.transaction", index="btree_not_null")
    payment_id = fields.Many2one(related="transaction_id.payment_id")
    reference = fields.Char(index=True)
    gateway_reference = fields.Char(index=True)
    currency_id = fields.Many2one(related="transaction_id.currency_id")
    odoo_amount = fields.Float(digits=(16, 2))
    gateway_amount = fields.Float(digits=(16, 2))
    has_odoo_amount = fields.Boolean()
    has_gateway_amount = fields.Boolean()
    odoo_state = fields.Char(string="Odoo Says")
    gateway_state = fields.Char(string="Gateway Says")
    date = fields.Date(index=True)
    exception_id = fields.Many2one("payment.latam.reconciliation.exception", index="btree_not_null")


class LatamReconciliationException(models.Model):
    """What a person must look at. One per provider and key, across runs."""

    _name = "payment.latam.reconciliation.exception"
    _description = "Payments LatAm Reconciliation Exception"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "state, last_seen desc, id desc"
    _rec_name = "key"

    provider_id = fields.Many2one("payment.provider", required=True, index=True)
    channel = fields.Selection(related="provider_id.code", store=True, index=True)
    company_id = fields.Many2one(related="provider_id.company_id", store=True, index=True)
    key = fields.Char(required=True, index=True)
    status = fields.Selection(STATUSES, required=True, tracking=True)
    explanation = fields.Char()
    transaction_id = fields.Many2one("payment.transaction", index="btree_not_null")
    reference = fields.Char()
    gateway_reference = fields.Char()
    last_line_id = fields.Many2one("payment.latam.reconciliation.line")
    first_seen = fields.Datetime(default=fields.Datetime.now, readonly=True)
    last_seen = fields.Datetime(default=fields.Datetime.now, readonly=True, index=True)
    user_id = fields.Many2one("res.users", string="Assigned To", tracking=True, index=True)
    note = fields.Text(tracking=True)
    state = fields.Selection(
        [("open", "Open"), ("resolved", "Resolved"), ("gone", "No longer found")],
        default="open",
        required=True,
        tracking=True,
        index=True,
    )
    resolution = fields.Text(tracking=True)
    resolved_by = fields.Many2one("res.users", readonly=True)
    resolved_at = fields.Datetime(readonly=True)

    _sql_constraints = [
        ("one_per_key", "UNIQUE(provider_id, key)", "One exception per provider and key.")
    ]

    def write(self, vals):
        # The state and who resolved it change through the actions and the runs only:
        # a resolution always carries its text, its author and its time.
        guarded = {"state", "resolved_by", "resolved_at", "status", "key", "provider_id"}
        if guarded & set(vals) and not self.env.context.get(_STATE_CHANGE) and not self.env.su:
            raise UserError(self.env._("Use Resolve or Reopen to change an exception's state."))
        return super().write(vals)

    def action_resolve(self):
        for exception in self:
            if not (exception.resolution or "").strip():
                raise UserError(self.env._("Say how %s was resolved.", exception.key))
        self.with_context(**{_STATE_CHANGE: True}).write(
            {"state": "resolved", "resolved_by": self.env.uid, "resolved_at": fields.Datetime.now()}
        )
        return True

    def action_reopen(self):
        self.with_context(**{_STATE_CHANGE: True}).write(
            {"state": "open", "resolved_by": False, "resolved_at": False}
        )
        return True

    @api.model
    def _track(self, lines):
        """Open or find again the exception of each line that is not matched."""
        exceptions = self.with_context(**{_STATE_CHANGE: True})  # the runs set states
        now = fields.Datetime.now()
        pending = lines.filtered(lambda line: line.status not in ("matched", "unverified"))
        existing = exceptions.search(
            [
                ("provider_id", "in", pending.provider_id.ids),
                ("key", "in", pending.mapped("key")),
            ]
        )
        by_key = {(exception.provider_id.id, exception.key): exception for exception in existing}
        for line in pending:
            exception = by_key.get((line.provider_id.id, line.key))
            values = {
                "status": line.status,
                "explanation": line.explanation,
                "transaction_id": line.transaction_id.id,
                "reference": line.reference,
                "gateway_reference": line.gateway_reference,
                "last_line_id": line.id,
                "last_seen": now,
            }
            if exception:
                if exception.state == "gone" or (
                    exception.state == "resolved" and exception.status != line.status
                ):
                    # A different problem on the same payment is a new question.
                    values["state"] = "open"
                exception.write(values)
            else:
                exception = exceptions.create(
                    {"provider_id": line.provider_id.id, "key": line.key, **values}
                )
                by_key[(line.provider_id.id, line.key)] = exception
            line.exception_id = exception
        # Open exceptions whose payment now matches are no longer found.
        matched = lines.filtered(lambda line: line.status == "matched")
        # A key both matched and not in one run is still a problem.
        still_wrong = set(pending.mapped("key"))
        gone = exceptions.search(
            [
                ("provider_id", "in", matched.provider_id.ids),
                ("key", "in", [key for key in matched.mapped("key") if key not in still_wrong]),
                ("state", "=", "open"),
            ]
        )
        gone.write({"state": "gone", "last_seen": now})
