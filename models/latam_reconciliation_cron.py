"""The daily remote check: yesterday, every channel, and a word to the accounting team.

Each active provider of the four channels gets one run for yesterday (UTC, the
day `payment.transaction.latam_date` counts in), found again if the cron runs a
second time that day. Each run happens in a savepoint and is committed on its
own: one gateway down does not stop the others. A run with exceptions, or one
that failed, gets a "To Do" activity for the company's accounting manager with
the day's summary per channel; an open activity is updated, never doubled.
"""

import logging
from datetime import timedelta

from markupsafe import Markup

from odoo import api, fields, models

from . import pending_sweep
from .reconciliation_checks.findings import CHANNELS

_logger = logging.getLogger(__name__)


class LatamReconciliationCron(models.Model):
    # Activities (and the chatter they need) so the daily run can ask someone to look.
    _name = "payment.latam.reconciliation"
    _inherit = ["payment.latam.reconciliation", "mail.thread", "mail.activity.mixin"]

    @api.model
    def _cron_run_yesterday(self):
        """Check yesterday for every active provider of the four channels."""
        day = fields.Date.today() - timedelta(days=1)  # the server runs in UTC
        providers = (
            self.env["payment.provider"]
            .sudo()
            .search(
                [
                    ("code", "in", [code for code, _label in CHANNELS]),
                    ("state", "in", ("test", "enabled")),
                ],
                order="company_id, id",
            )
        )
        runs = self.sudo().browse()
        for provider in providers:
            run = self.sudo()._for_yesterday(provider, day)
            try:
                # One channel's gateway (or a bug in its checker) must not stop the others.
                with self.env.cr.savepoint():
                    run._run()
            except Exception as error:  # recorded on the run, logged in full
                _logger.exception("Reconciliation %s failed", run.name)
                run.write(
                    {"state": "failed", "message": str(error), "run_at": fields.Datetime.now()}
                )
            runs |= run
            # Each provider's day is kept on its own (not in tests' single transaction).
            pending_sweep._commit(self.env)
        runs._latam_notify_accounting(day)
        pending_sweep._commit(self.env)
        return runs

    @api.model
    def _for_yesterday(self, provider, day):
        domain = [
            ("provider_id", "=", provider.id),
            ("date_from", "=", day),
            ("date_to", "=", day),
        ]
        return self.search(domain, limit=1) or self.create(
            {"provider_id": provider.id, "date_from": day, "date_to": day}
        )

    def _latam_notify_accounting(self, day):
        """One "To Do" per run that needs a person: the day's summary, per channel."""
        to_look_at = self.filtered(lambda run: run.state == "failed" or run.exception_count)
        if not to_look_at:
            return
        todo = self.env.ref("mail.mail_activity_data_todo")
        summary = self._latam_summary(day)
        for run in to_look_at:
            if run.state == "failed":
                title = self.env._(
                    "Remote check of %(channel)s failed", channel=run.provider_id.name
                )
                detail = run.message or ""
            else:
                title = self.env._(
                    "Reconciliation exceptions in %(channel)s: %(count)s",
                    count=run.exception_count,
                    channel=run.provider_id.name,
                )
                detail = ""
            note = summary + (Markup("<p>%s</p>") % detail if detail else Markup())
            existing = run.activity_ids.filtered(lambda activity: activity.activity_type_id == todo)
            if existing:
                # Still open from an earlier run of the day: keep one, up to date.
                existing[:1].write({"summary": title, "note": note})
                continue
            run.activity_schedule(
                activity_type_id=todo.id,
                summary=title,
                note=note,
                user_id=self._latam_accounting_user(run.company_id).id,
                date_deadline=fields.Date.context_today(run),
            )

    def _latam_summary(self, day):
        labels = dict(self._fields["channel"]._description_selection(self.env))
        items = Markup()
        for code, _label in CHANNELS:
            runs = self.filtered(lambda run, code=code: run.channel == code)
            if not runs:
                continue
            items += Markup("<li>%s</li>") % self.env._(
                "%(channel)s: %(matched)s matched, %(exceptions)s exceptions, %(failed)s failed",
                channel=labels.get(code, code),
                matched=sum(runs.mapped("matched_count")),
                exceptions=sum(runs.mapped("exception_count")),
                failed=len(runs.filtered(lambda run: run.state == "failed")),
            )
        unclosed = (
            self.env["payment.latam.deposit"]
            .sudo()
            .search_count([("company_id", "in", self.company_id.ids), ("state", "!=", "closed")])
        )
        if unclosed:
            items += Markup("<li>%s</li>") % self.env._(
                "Days whose deposit is not reconciled yet: %(count)s", count=unclosed
            )
        heading = self.env._("Remote checks of %(day)s:", day=fields.Date.to_string(day))
        return Markup("<p>%s</p><ul>%s</ul>") % (heading, items)

    @api.model
    def _latam_accounting_user(self, company):
        """The company's first accounting manager (by id), else the administrator.

        Managers are the ones who may change the channels' settings and decide on
        corrections; the administrator is the last resort so no activity is lost.
        """
        managers = (
            self.env.ref("account.group_account_manager")
            .sudo()
            .users.filtered(
                lambda user: user.active and not user.share and company in user.company_ids
            )
        )
        return managers.sorted("id")[:1] or self.env.ref("base.user_admin")
