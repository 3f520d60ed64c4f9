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
from odoo.tools import SQL

from .reconciliation_checks import CHECKERS
from .reconciliation_checks.findings import STATUSES, CheckFailed

_logger = logging.getLogger(__name__)

_STATE_CHANGE = "latam_exception_state_change"

# The line columns a run fills from its findings, with their SQL array types.
_LINE_ARRAYS = {
    "key": "varchar",
    "status": "varchar",
    "explanation": "varchar",
    "transaction_id": "int4",
    "reference": "varchar",
    "gateway_reference": "varchar",
    "odoo_amount": "numeric",
    "gateway_amount": "numeric",
    "has_odoo_amount": "bool",
    "has_gateway_amount": "bool",
    "odoo_state": "varchar",
    "gateway_state": "varchar",
    "date": "date",
}
# Lines that neither open nor close an exception, and lines that do not open one.
_NOT_PENDING = ("matched", "unverified")


def _column_value(field, value):
    """`value` as the ORM would store it in `field`'s column (no query)."""
    if field.type in ("many2one", "date") and not value:
        return None
    return field.convert_to_column(value, None) if field.type != "float" else _money(value)


def _money(value):
    return round(float(value or 0.0), 2)


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
        self._store_findings(findings)
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

    def _store_findings(self, findings):
        """Replace the run's lines with `findings` and track their exceptions, in a fixed
        number of SQL statements whatever the number of findings: the lines are inserted
        from arrays, the exceptions upserted in one statement (see `_track`)."""
        self.ensure_one()
        Line = self.env["payment.latam.reconciliation.line"]
        self.check_access("write")
        Line.check_access("unlink")
        Line.check_access("create")
        self.env.flush_all()
        cr = self.env.cr
        # Exceptions pointing at the old lines lose them (the foreign key sets them null).
        cr.execute(SQL("DELETE FROM payment_latam_reconciliation_line WHERE run_id = %s", self.id))
        columns = {name: [] for name in _LINE_ARRAYS}
        for finding in findings:
            values = self._line_values(finding)
            for name in _LINE_ARRAYS:
                columns[name].append(_column_value(Line._fields[name], values[name]))
        now = fields.Datetime.now()
        arrays = SQL(", ").join(
            SQL("%s::%s[]", columns[name], SQL(_LINE_ARRAYS[name])) for name in _LINE_ARRAYS
        )
        names = SQL(", ").join(SQL.identifier(name) for name in _LINE_ARRAYS)
        cr.execute(
            SQL(
                """
                INSERT INTO payment_latam_reconciliation_line (
                    run_id, provider_id, channel, company_id, %(names)s,
                    create_uid, write_uid, create_date, write_date
                )
                SELECT %(run)s, %(provider)s, %(channel)s, %(company)s, %(names)s,
                       %(uid)s, %(uid)s, %(now)s, %(now)s
                  FROM unnest(%(arrays)s) WITH ORDINALITY AS f(%(names)s, position)
                 ORDER BY f.position
                RETURNING id
                """,
                names=names,
                arrays=arrays,
                run=self.id,
                provider=self.provider_id.id,
                channel=self.channel,
                company=self.company_id.id or None,
                uid=self.env.uid,
                now=now,
            )
        )
        lines = Line.browse(sorted(row[0] for row in cr.fetchall()))
        self.env["payment.latam.reconciliation.exception"]._track(lines)
        cr.execute(
            SQL(
                """
                UPDATE payment_latam_reconciliation run
                   SET matched_count = counts.matched, exception_count = counts.exceptions
                  FROM (
                    SELECT count(*) FILTER (WHERE status = 'matched') AS matched,
                           count(*) FILTER (WHERE status NOT IN ('matched', 'unverified'))
                               AS exceptions
                      FROM payment_latam_reconciliation_line
                     WHERE run_id = %(run)s
                  ) AS counts
                 WHERE run.id = %(run)s
                """,
                run=self.id,
            )
        )
        self.env.invalidate_all()
        return lines

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
        """Open or find again the exception of each line that is not matched, and mark
        gone the open exceptions whose key now matches: four statements, whatever the
        number of lines.

        Per (provider, key), as if the lines were applied one after another: a new key
        opens an exception; a known one takes the values of its last line and is
        reopened when it was gone, or resolved and one of the lines has another status
        (a different problem on the same payment is a new question). An open exception
        whose key has a matched line and no other is no longer found. Unverified lines
        neither open nor close anything. The states change by SQL: no tracking message.
        """
        self.check_access("create")
        self.check_access("write")
        self.env.flush_all()
        cr = self.env.cr
        now = fields.Datetime.now()
        params = {
            "lines": list(lines.ids),
            "not_pending": list(_NOT_PENDING),
            "uid": self.env.uid,
            "now": now,
        }
        cr.execute(
            SQL(
                """
                INSERT INTO payment_latam_reconciliation_exception AS exception (
                    provider_id, channel, company_id, key, status, explanation,
                    transaction_id, reference, gateway_reference, last_line_id,
                    first_seen, last_seen, state,
                    create_uid, write_uid, create_date, write_date
                )
                SELECT DISTINCT ON (line.provider_id, line.key)
                       line.provider_id, provider.code, provider.company_id, line.key,
                       line.status, line.explanation, line.transaction_id, line.reference,
                       line.gateway_reference, line.id, %(now)s, %(now)s, 'open',
                       %(uid)s, %(uid)s, %(now)s, %(now)s
                  FROM payment_latam_reconciliation_line line
                  JOIN payment_provider provider ON provider.id = line.provider_id
                 WHERE line.id = ANY(%(lines)s) AND line.status != ALL(%(not_pending)s)
                 ORDER BY line.provider_id, line.key, line.id DESC
                ON CONFLICT (provider_id, key) DO UPDATE
                   SET status = EXCLUDED.status,
                       explanation = EXCLUDED.explanation,
                       transaction_id = EXCLUDED.transaction_id,
                       reference = EXCLUDED.reference,
                       gateway_reference = EXCLUDED.gateway_reference,
                       last_line_id = EXCLUDED.last_line_id,
                       last_seen = EXCLUDED.last_seen,
                       write_uid = EXCLUDED.write_uid,
                       write_date = EXCLUDED.write_date,
                       state = CASE
                           WHEN exception.state = 'gone' THEN 'open'
                           WHEN exception.state = 'resolved' AND EXISTS (
                               SELECT 1
                                 FROM payment_latam_reconciliation_line other
                                WHERE other.id = ANY(%(lines)s)
                                  AND other.provider_id = EXCLUDED.provider_id
                                  AND other.key = EXCLUDED.key
                                  AND other.status != ALL(%(not_pending)s)
                                  AND other.status != exception.status
                           ) THEN 'open'
                           ELSE exception.state
                       END
                """,
                **params,
            )
        )
        cr.execute(
            SQL(
                """
                UPDATE payment_latam_reconciliation_line line
                   SET exception_id = exception.id, write_uid = %(uid)s, write_date = %(now)s
                  FROM payment_latam_reconciliation_exception exception
                 WHERE line.id = ANY(%(lines)s) AND line.status != ALL(%(not_pending)s)
                   AND exception.provider_id = line.provider_id AND exception.key = line.key
                """,
                **params,
            )
        )
        # Open exceptions whose payment now matches are no longer found; a key both
        # matched and not in the same lines is still a problem.
        cr.execute(
            SQL(
                """
                UPDATE payment_latam_reconciliation_exception exception
                   SET state = 'gone', last_seen = %(now)s, write_uid = %(uid)s,
                       write_date = %(now)s
                  FROM (
                    SELECT provider_id, key
                      FROM payment_latam_reconciliation_line
                     WHERE id = ANY(%(lines)s)
                     GROUP BY provider_id, key
                    HAVING bool_or(status = 'matched')
                  ) AS matched
                 WHERE exception.state = 'open'
                   AND exception.provider_id = matched.provider_id
                   AND exception.key = matched.key
                   AND NOT EXISTS (
                       SELECT 1
                         FROM payment_latam_reconciliation_line line
                        WHERE line.id = ANY(%(lines)s)
                          AND line.key = exception.key
                          AND line.status != ALL(%(not_pending)s)
                   )
                """,
                **params,
            )
        )
        self.env.invalidate_all()
