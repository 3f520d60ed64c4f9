# Run by benchmarks/bench_reconciliation.py inside `odoo-bin shell` on the throwaway
# benchmark database (the shell provides `env`); one step per process, BENCH_RECON_STEP:
#
# - "prepare": for each size of BENCH_RECON_SIZES ("100000,10000"), on its own past day,
#   that many Caja Vecina bank payments, inserted with SQL: a done transaction with its
#   posted account.payment (minimal columns: the check reads the payment's state, name
#   and amount) and an accepted registrarPago exchange pointing at it. Row n is, by
#   n % 100: 0 an amount mismatch (the bank accepted 1000 pesos more), 1 missing in
#   Odoo (an accepted exchange, no transaction), 2 missing at the bank (a done
#   transaction, no exchange), else matched. Writes {size: {"day": ...}} to BENCH_OUTPUT.
# - "reconcile": one reconciliation run of the Caja Vecina provider for BENCH_RECON_DAY
#   (created, then run and committed), measured: wall time, SQL queries (Odoo's own
#   counter) and the growth of the process's peak RSS.
# - "join": the baseline, one SQL query over the same data (the exchanges FULL OUTER JOIN
#   the done transactions and their payments, with the same statuses), its rows fetched
#   into the process, measured the same way.
import json
import os
import resource
import secrets
import time
from datetime import datetime, timedelta
from datetime import time as day_time

from odoo import fields, sql_db

env = env  # noqa: F821 - provided by odoo-bin shell

STEP = os.environ["BENCH_RECON_STEP"]
OUTPUT = os.environ["BENCH_OUTPUT"]
provider = env.ref("payment_latam.payment_provider_cajavecina")

# The same statuses as models/reconciliation_checks/cajavecina.py, for bank payments of
# one transaction: rounded pesos, a payment posted when in_process or paid.
JOIN = """
WITH exchange AS (
    SELECT id, bank_transaction, amount, transaction_id
      FROM payment_cajavecina_exchange
     WHERE provider_id = %(provider)s AND operation = 'registrarPago' AND result = 'ok'
       AND create_date >= %(start)s AND create_date < %(end)s
), tx AS (
    SELECT tx.id, tx.reference, tx.amount, pay.state AS pay_state, pay.amount AS pay_amount
      FROM payment_transaction tx
      LEFT JOIN account_payment pay ON pay.id = tx.payment_id
     WHERE tx.provider_id = %(provider)s AND tx.state = 'done'
       AND tx.latam_date = %(day)s AND tx.operation != 'validation'
)
SELECT coalesce(tx.reference, 'cb:' || btrim(exchange.bank_transaction)) AS key,
       CASE
           WHEN tx.id IS NULL THEN 'missing_odoo'
           WHEN exchange.id IS NULL THEN 'missing_gateway'
           WHEN tx.pay_state IS NULL THEN 'missing_odoo'
           WHEN tx.pay_state NOT IN ('in_process', 'paid') THEN 'state_mismatch'
           WHEN round(exchange.amount) != round(tx.amount) THEN 'amount_mismatch'
           WHEN round(tx.pay_amount) != round(tx.amount) THEN 'amount_mismatch'
           ELSE 'matched'
       END AS status,
       tx.id, tx.amount, exchange.id, exchange.amount, exchange.bank_transaction
  FROM exchange
  FULL OUTER JOIN tx ON tx.id = exchange.transaction_id
"""


def join_params(day):
    start = datetime.combine(day, day_time.min)
    return {"provider": provider.id, "start": start, "end": start + timedelta(days=1), "day": day}


def measured(work):
    """work() timed, with its SQL queries and the growth of the peak RSS (KiB)."""
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    queries_before = sql_db.sql_counter
    start = time.perf_counter()
    result = work()
    return result, {
        "seconds": time.perf_counter() - start,
        "queries": sql_db.sql_counter - queries_before,
        "peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before,
    }


INSERT = """
WITH row AS (
    SELECT n, n %% 100 AS kind,
           (4990 + (n * 7919) %% 97 * 100)::numeric AS amount,
           %(prefix)s || lpad(n::text, 7, '0') AS reference,
           %(bank_prefix)s || lpad(n::text, 7, '0') AS bank_key,
           CASE WHEN n %% 100 != 1 THEN nextval('payment_transaction_id_seq') END AS tx_id,
           CASE WHEN n %% 100 != 1 THEN nextval('account_payment_id_seq') END AS pay_id
      FROM generate_series(1, %(count)s) AS n
), payment AS (
    INSERT INTO account_payment (
        id, journal_id, company_id, currency_id, partner_id, state, payment_type,
        partner_type, date, amount, name, create_uid, write_uid, create_date, write_date
    )
    SELECT pay_id, %(journal)s, %(company)s, %(currency)s, %(partner)s, 'paid', 'inbound',
           'customer', %(day)s, amount, 'P' || reference, %(uid)s, %(uid)s, %(moment)s,
           %(moment)s
      FROM row WHERE tx_id IS NOT NULL
), tx AS (
    INSERT INTO payment_transaction (
        id, provider_id, payment_method_id, company_id, currency_id, partner_id, partner_name,
        reference, state, operation, amount, payment_id, cajavecina_payment_key,
        last_state_change, latam_date, is_post_processed, tokenize,
        create_uid, write_uid, create_date, write_date
    )
    SELECT tx_id, %(provider)s, %(method)s, %(company)s, %(currency)s, %(partner)s,
           'Bench', reference, 'done', 'online_redirect', amount, pay_id, bank_key,
           %(moment)s, %(day)s, true, false, %(uid)s, %(uid)s, %(moment)s, %(moment)s
      FROM row WHERE tx_id IS NOT NULL
)
INSERT INTO payment_cajavecina_exchange (
    provider_id, operation, result, amount, bank_transaction, transaction_id, rut, document,
    create_uid, write_uid, create_date, write_date
)
SELECT %(provider)s, 'registrarPago', 'ok', amount + CASE WHEN kind = 0 THEN 1000 ELSE 0 END,
       bank_key, tx_id, '11111111-1', reference, %(uid)s, %(uid)s, %(moment)s, %(moment)s
  FROM row WHERE kind != 2
"""


def prepare():
    today = fields.Date.context_today(provider)
    provider.write({"cajavecina_log_retention_days": 30})
    clp = env.ref("base.CLP")
    clp.active = True
    journal = env["account.journal"].search(
        [("type", "=", "bank"), ("company_id", "=", provider.company_id.id)], limit=1
    )
    partner = env["res.partner"].create({"name": "Bench reconciliation payer"})
    env.flush_all()
    tag = secrets.token_hex(3)
    result = {}
    for index, size in enumerate(int(s) for s in os.environ["BENCH_RECON_SIZES"].split(",")):
        day = today - timedelta(days=2 + index)  # days no other benchmark writes
        env.cr.execute(
            INSERT,
            {
                "prefix": f"RB{tag}-{size}-",
                "bank_prefix": f"RB{tag}{size}x",
                "count": size,
                "journal": journal.id,
                "company": provider.company_id.id,
                "currency": clp.id,
                "partner": partner.id,
                "provider": provider.id,
                "method": provider.payment_method_ids[:1].id,
                "day": day,
                "moment": datetime.combine(day, day_time(12)),
                "uid": env.uid,
            },
        )
        result[str(size)] = {"day": str(day)}
    for table in ("payment_transaction", "account_payment", "payment_cajavecina_exchange"):
        env.cr.execute(f"ANALYZE {table}")
    env.cr.commit()
    return result


def reconcile(day):
    run = env["payment.latam.reconciliation"].create(
        {"provider_id": provider.id, "date_from": day, "date_to": day}
    )
    env.cr.commit()
    env.invalidate_all()

    def work():
        run.action_run()
        env.cr.commit()

    _, figures = measured(work)
    run.invalidate_recordset()
    if run.state != "done":
        raise SystemExit(f"the run failed: {run.message}")
    env.cr.execute(
        "SELECT count(*) FROM payment_latam_reconciliation_line WHERE run_id = %s", [run.id]
    )
    return {**figures, "run_id": run.id, "lines": env.cr.fetchone()[0]}


def join(day):
    def work():
        env.cr.execute(JOIN, join_params(day))
        return env.cr.fetchall()

    rows, figures = measured(work)
    return {**figures, "rows": len(rows), "statuses": {row[0]: row[1] for row in rows}}


if STEP == "prepare":
    answer = prepare()
elif STEP == "reconcile":
    answer = reconcile(fields.Date.to_date(os.environ["BENCH_RECON_DAY"]))
elif STEP == "join":
    answer = join(fields.Date.to_date(os.environ["BENCH_RECON_DAY"]))
else:
    raise SystemExit(f"unknown BENCH_RECON_STEP {STEP}")
with open(OUTPUT, "w", encoding="utf-8") as output:
    json.dump(answer, output)
