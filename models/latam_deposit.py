"""A channel's day of money, and the bank deposit that brings it in.

Each provider's posted payments of one day should reach the company's bank as
one deposit (net of the gateway's commission). A deposit record holds the day's
payments and what they add up to; matching finds the bank statement line that
carries the provider's deposit label for that amount; reconciling books the
statement line against the payments (and the commission), after which the day
is closed. A deposit that the accountant reconciles by other means closes too:
the state follows the statement line.
"""

from collections import defaultdict
from datetime import timedelta

from odoo import Command, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import float_compare

POSTED_PAYMENT_STATES = ("in_process", "paid")
_GATHERING = "latam_deposit_gathering"
_GATHERED_FIELDS = {"payment_ids", "payment_count", "expected_amount", "provider_id", "date"}


def _outstanding_lines(payments):
    """Payments' liquidity lines on a reconcilable account that no bank line settled yet."""
    lines = payments.env["account.move.line"]
    for payment in payments.filtered("move_id"):
        liquidity, _counterpart, _writeoff = payment._seek_for_lines()
        lines |= liquidity.filtered(lambda line: line.account_id.reconcile and not line.reconciled)
    return lines


# Open days looked at again by the daily matching (statements arrive late).
MATCHING_HORIZON_DAYS = 60
# Days the daily run gathers, counting back from yesterday.
GATHER_DAYS = 7


class LatamDeposit(models.Model):
    _name = "payment.latam.deposit"
    _description = "Payments LatAm Deposit"
    _inherit = ["mail.thread"]
    _order = "date desc, id desc"
    _check_company_auto = True

    name = fields.Char(compute="_compute_name", store=True)
    provider_id = fields.Many2one(
        "payment.provider",
        required=True,
        readonly=True,
        index=True,
        ondelete="cascade",
        domain="[('code', 'in', ('webpay', 'etpay', 'cajavecina', 'unicomer'))]",
    )
    channel = fields.Selection(related="provider_id.code", store=True, index=True)
    company_id = fields.Many2one(related="provider_id.company_id", store=True, index=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    date = fields.Date(string="Day", required=True, readonly=True, index=True)
    payment_ids = fields.Many2many(
        "account.payment",
        "payment_latam_deposit_payment_rel",
        "deposit_id",
        "payment_id",
        string="Payments",
        readonly=True,
    )
    payment_count = fields.Integer(string="Payments Count", readonly=True)
    expected_amount = fields.Monetary(
        string="Payments Total",
        readonly=True,
        help="The day's posted payments of this channel, refunds deducted.",
    )
    statement_line_id = fields.Many2one(
        "account.bank.statement.line",
        string="Deposit",
        index="btree_not_null",
        copy=False,
        tracking=True,
        check_company=True,
        domain="[('company_id', '=', company_id), ('is_reconciled', '=', False)]",
        help="The bank statement line that brought this day's money in.",
    )
    deposit_amount = fields.Monetary(
        string="Deposited", compute="_compute_amounts", store=True, readonly=True
    )
    fee_amount = fields.Monetary(
        string="Commission",
        compute="_compute_amounts",
        store=True,
        readonly=True,
        help="What the gateway kept: the payments' total minus the deposit.",
    )
    state = fields.Selection(
        [
            ("open", "Awaiting Deposit"),
            ("matched", "Deposit Found"),
            ("closed", "Closed"),
        ],
        compute="_compute_state",
        store=True,
        index=True,
        tracking=True,
    )
    matching_note = fields.Char(string="Matching", readonly=True)

    _sql_constraints = [
        ("provider_day_unique", "UNIQUE(provider_id, date)", "A channel has one deposit per day."),
        (
            "statement_line_unique",
            "UNIQUE(statement_line_id)",
            "A bank statement line is the deposit of one channel's day only.",
        ),
    ]

    @api.depends("provider_id.name", "date")
    def _compute_name(self):
        for deposit in self:
            day = fields.Date.to_string(deposit.date) if deposit.date else ""
            deposit.name = f"{deposit.provider_id.name or ''} {day}".strip()

    @api.depends("statement_line_id.amount", "expected_amount")
    def _compute_amounts(self):
        for deposit in self:
            line = deposit.statement_line_id
            deposit.deposit_amount = line.amount if line else 0.0
            deposit.fee_amount = deposit.expected_amount - line.amount if line else 0.0

    @api.depends("statement_line_id", "statement_line_id.is_reconciled")
    def _compute_state(self):
        for deposit in self:
            line = deposit.statement_line_id
            if not line:
                deposit.state = "open"
            else:
                deposit.state = "closed" if line.is_reconciled else "matched"

    # === Gathering the days === #

    @api.model
    def _latam_gather(self, provider, day):
        """The deposit of `provider`'s `day`, created or brought up to date.

        A closed day is left as it was booked; a day without payments gets no
        deposit (nothing will reach the bank).
        """
        deposit = self.search([("provider_id", "=", provider.id), ("date", "=", day)], limit=1)
        if deposit.state == "closed":
            return deposit
        payments = self.env["account.payment"].search(
            [
                ("payment_transaction_id.provider_id", "=", provider.id),
                ("date", "=", day),
                ("state", "in", POSTED_PAYMENT_STATES),
            ]
        )
        # Only what still waits for the bank: a payment already matched with a bank line
        # (or booked without an outstanding account) is not in any deposit to come.
        outstanding = _outstanding_lines(payments)
        payments = outstanding.payment_id
        if not payments and not deposit:
            return deposit
        values = {
            "payment_ids": [Command.set(payments.ids)],
            "payment_count": len(payments),
            "expected_amount": sum(outstanding.mapped("amount_residual")),
        }
        if deposit:
            deposit.with_context(**{_GATHERING: True}).write(values)
            return deposit
        created = self.with_context(**{_GATHERING: True}).create(
            {"provider_id": provider.id, "date": day, **values}
        )
        return created.with_env(self.env)  # the flag stays with the gathering

    def write(self, vals):
        """The day's payments and total are read from the books, never typed in."""
        if set(vals) & _GATHERED_FIELDS and not self.env.context.get(_GATHERING):
            raise UserError(
                self.env._("A deposit's payments are read from the books: use Read Payments Again.")
            )
        return super().write(vals)

    def action_gather(self):
        """Read the day's payments again (after a late payment or a cancellation)."""
        for deposit in self:
            self._latam_gather(deposit.provider_id, deposit.date)
        return True

    # === Matching === #

    def _latam_candidates(self, taken_ids=()):
        """Unreconciled bank statement lines that can be this day's deposit."""
        self.ensure_one()
        provider = self.provider_id.sudo()
        label = (provider.latam_deposit_label or "").strip()
        if not label or self.currency_id.is_zero(self.expected_amount):
            return self.env["account.bank.statement.line"]
        floor = self.expected_amount * (1 - provider.latam_deposit_max_fee / 100)
        low, high = sorted((self.currency_id.round(floor), self.expected_amount))
        return self.env["account.bank.statement.line"].search(
            [
                ("company_id", "=", self.company_id.id),
                ("journal_id.type", "=", "bank"),
                ("journal_id.currency_id", "in", [False, self.currency_id.id]),
                ("foreign_currency_id", "=", False),
                ("is_reconciled", "=", False),
                ("date", ">=", self.date),
                ("date", "<=", self.date + timedelta(days=provider.latam_deposit_delay_days)),
                ("amount", ">=", low),
                ("amount", "<=", high),
                ("payment_ref", "ilike", label),
                ("id", "not in", list(taken_ids)),
            ],
            order="date, id",
        )

    def action_match(self):
        """Look for each open day's deposit among the bank statement lines."""
        taken = set(
            self.search([("statement_line_id", "!=", False)]).mapped("statement_line_id").ids
        )
        for deposit in self.filtered(lambda d: d.state == "open").sorted("date"):
            if not deposit.provider_id.sudo().latam_deposit_label:
                deposit.matching_note = self.env._(
                    "No deposit label on the provider: choose the deposit by hand."
                )
                continue
            candidates = deposit._latam_candidates(taken)
            if len(candidates) == 1:
                deposit.write({"statement_line_id": candidates.id, "matching_note": False})
                taken.add(candidates.id)
            elif candidates:
                deposit.matching_note = self.env._(
                    "%(count)s bank statement lines could be this deposit: choose one.",
                    count=len(candidates),
                )
            else:
                deposit.matching_note = self.env._("No bank statement line matches yet.")
        return True

    def action_unmatch(self):
        for deposit in self:
            if deposit.state == "closed":
                raise UserError(
                    self.env._(
                        "%(deposit)s is reconciled: undo the statement line's reconciliation "
                        "first.",
                        deposit=deposit.name,
                    )
                )
        self.write({"statement_line_id": False, "matching_note": False})
        return True

    # === Reconciling === #

    def action_reconcile(self):
        """Book each matched deposit against its day's payments and close the day."""
        for deposit in self:
            deposit._latam_lock()
            if deposit.state != "matched":
                raise UserError(
                    self.env._(
                        "%(deposit)s has no deposit waiting to be reconciled.",
                        deposit=deposit.name,
                    )
                )
            deposit._latam_book()
        return True

    def _latam_lock(self):
        # Two accountants (or a double click) on the same day: the row is written,
        # not only locked, so the second transaction always gets a serialization
        # failure once the first commits; Odoo retries it on a fresh snapshot, where
        # the day is closed.
        self.env.cr.execute(
            "UPDATE payment_latam_deposit SET write_date = (now() AT TIME ZONE 'UTC') "
            "WHERE id = %s",
            [self.id],
            log_exceptions=False,
        )

    def _latam_outstanding_lines(self):
        """The payments' unreconciled outstanding lines (what the deposit settles)."""
        return _outstanding_lines(self.payment_ids)

    def _latam_check_line(self, st_line):
        """A line chosen by hand must be a deposit of this day's money: a bank journal in
        the company's currency, short of the payments by no more than the commission."""
        currency = self.currency_id
        journal_currency = st_line.journal_id.currency_id or st_line.company_id.currency_id
        if (
            st_line.journal_id.type != "bank"
            or journal_currency != currency
            or st_line.foreign_currency_id
        ):
            raise UserError(
                self.env._(
                    "The deposit of %(deposit)s must be a bank statement line in %(currency)s.",
                    deposit=self.name,
                    currency=currency.name,
                )
            )
        fee = currency.round(self.expected_amount - st_line.amount)
        limit = currency.round(
            abs(self.expected_amount) * self.provider_id.sudo().latam_deposit_max_fee / 100
        )
        if currency.compare_amounts(fee, 0) < 0 or currency.compare_amounts(fee, limit) > 0:
            raise UserError(
                self.env._(
                    "%(line)s differs from the payments of %(deposit)s by %(difference)s, more "
                    "than the commission the provider allows (%(limit)s): it is not this "
                    "day's deposit.",
                    line=st_line.display_name,
                    deposit=self.name,
                    difference=fee,
                    limit=limit,
                )
            )

    def _latam_book(self):
        """Replace the statement line's suspense line by the payments and the fee."""
        self.ensure_one()
        st_line = self.statement_line_id
        _liquidity, suspense, other = st_line._seek_for_lines()
        if other or len(suspense) != 1:
            raise UserError(
                self.env._(
                    "The bank statement line of %(deposit)s is already partly reconciled.",
                    deposit=self.name,
                )
            )
        outstanding = self._latam_outstanding_lines()
        residual = sum(outstanding.mapped("amount_residual"))
        currency = self.currency_id
        if (
            float_compare(residual, self.expected_amount, precision_rounding=currency.rounding)
            or not outstanding
        ):
            raise UserError(
                self.env._(
                    "The payments of %(deposit)s changed since the day was gathered (some were "
                    "cancelled or reconciled elsewhere): press Read Payments Again before "
                    "reconciling.",
                    deposit=self.name,
                )
            )
        self._latam_check_line(st_line)
        fee = currency.round(self.expected_amount - st_line.amount)
        fee_account = self.provider_id.sudo().latam_deposit_fee_account_id
        if not currency.is_zero(fee) and not fee_account:
            raise UserError(
                self.env._(
                    "The deposit of %(deposit)s is %(fee)s short of the payments: set a deposit "
                    "fee account on the provider to book the commission.",
                    deposit=self.name,
                    fee=fee,
                )
            )
        by_account = defaultdict(float)
        for line in outstanding:
            by_account[line.account_id] += line.amount_residual
        commands = [Command.delete(suspense.id)]
        label = self.env._("Deposit of %(deposit)s", deposit=self.name)
        for account, amount in by_account.items():
            commands.append(
                Command.create(
                    {
                        "name": label,
                        "account_id": account.id,
                        "balance": -amount,
                        "amount_currency": -amount,
                        "currency_id": currency.id,
                    }
                )
            )
        if not currency.is_zero(fee):
            commands.append(
                Command.create(
                    {
                        "name": self.env._("Commission of %(deposit)s", deposit=self.name),
                        "account_id": fee_account.id,
                        "balance": fee,
                        "amount_currency": fee,
                        "currency_id": currency.id,
                    }
                )
            )
        move = st_line.move_id
        # As Odoo's own reconciliation does: the statement line's entry is redrafted,
        # its suspense line replaced, and posted again.
        move.button_draft()
        move.write({"line_ids": commands})
        move.action_post()
        new_lines = move.line_ids.filtered(lambda line: line.account_id in by_account)
        for account in by_account:
            (new_lines + outstanding).filtered(
                lambda line, a=account: line.account_id == a
            ).reconcile()
        self.message_post(
            body=self.env._(
                "Reconciled with %(line)s: %(count)s payments, commission %(fee)s.",
                line=st_line.display_name,
                count=len(self.payment_ids),
                fee=fee,
            )
        )

    # === The daily run === #

    @api.model
    def _cron_gather_and_match(self, day=None):
        """Gather the last days for each channel, then look for open days' deposits."""
        day = day or fields.Date.today() - timedelta(days=1)
        providers = (
            self.env["payment.provider"]
            .sudo()
            .search(
                [
                    ("code", "in", ("webpay", "etpay", "cajavecina", "unicomer")),
                    ("state", "in", ("test", "enabled")),
                ]
            )
        )
        # A missed run loses no day: the last few are gathered again (closed ones stay).
        for provider in providers:
            for back in range(GATHER_DAYS):
                self.sudo()._latam_gather(provider, day - timedelta(days=back))
        open_days = self.sudo().search(
            [
                ("state", "=", "open"),
                ("date", ">=", day - timedelta(days=MATCHING_HORIZON_DAYS)),
            ]
        )
        open_days.action_match()
        return open_days
