# Run inside `odoo-bin shell` (which provides `env`) by bench_cajavecina.py: the data the
# Caja Vecina webservice is measured on, committed, and described as JSON in BENCH_OUTPUT.
#
# - BENCH_PARTNERS Chilean customers with valid, distinct RUTs, created through the ORM
#   (batched; latam_rut is computed by the addon itself).
# - BENCH_INVOICES posted customer invoices in CLP in all, of three kinds:
#   * real ones, created and posted through the ORM (lines, receivable, sequence): the
#     invoices the measured registrarPago calls pay, BENCH_REAL of them spread over the
#     regular customers, plus BENCH_TIER_CALLS per payment tier below;
#   * the volume, inserted with SQL (INSERT ... SELECT generate_series) into a journal of
#     its own, with every account_move column the consult reads: open, never paid, no
#     lines (nothing reads them);
#   * the tiers: customers with 1 (BENCH_TIER_CALLS of them, one real invoice each), a
#     tenth of BENCH_BIG_CUSTOMER and BENCH_BIG_CUSTOMER open invoices (BENCH_TIER_CALLS
#     of those real, the rest SQL), to show what a consult and a payment cost per number
#     of invoices.
# - The Caja Vecina provider in test mode, answering loopback callers.
import json
import os
import random
import secrets
from datetime import timedelta

from stdnum.cl import rut as stdnum_rut

from odoo import Command, fields

from odoo.addons.payment_latam.models.cajavecina_service import document_number

env = env  # noqa: F821 - provided by odoo-bin shell

PARTNERS = int(os.environ["BENCH_PARTNERS"])
INVOICES = int(os.environ["BENCH_INVOICES"])
REAL = int(os.environ["BENCH_REAL"])
TIER_CALLS = int(os.environ["BENCH_TIER_CALLS"])
BIG = int(os.environ["BENCH_BIG_CUSTOMER"])
BATCH = 1000

company = env.company
clp = env.ref("base.CLP")
clp.active = True
chile = env.ref("base.cl")
today = fields.Date.context_today(env["res.partner"])
run = secrets.token_hex(3)
rng = random.Random(20261101)

provider = env.ref("payment_latam.payment_provider_cajavecina")
provider.write({"state": "test", "cajavecina_allowed_ips": "127.0.0.1, ::1"})

# --- customers ---

tier_sizes = sorted({1, max(2, BIG // 10), BIG})
big_tiers = [size for size in tier_sizes if size > 1]
regular_count = PARTNERS - TIER_CALLS - len(big_tiers)
bulk_regular = INVOICES - REAL - TIER_CALLS - sum(big_tiers)
if regular_count < 1 or bulk_regular < regular_count:
    raise SystemExit(
        f"{PARTNERS} partners and {INVOICES} invoices are too few for {REAL} paid invoices "
        f"and tiers {tier_sizes} x {TIER_CALLS} calls: every regular customer needs an "
        "invoice that is never paid, so that any of them can be consulted"
    )

# Bodies above any RUT this database already has in the range: distinct on a reused database.
env.cr.execute(
    "SELECT max(left(latam_rut, -1)::bigint) FROM res_partner WHERE latam_rut ~ '^3[0-9]{7}[0-9K]$'"
)
first_body = (env.cr.fetchone()[0] or 30_000_000) + 1


def rut_of(index):
    body = str(first_body + index)
    return f"{body}-{stdnum_rut.calc_check_digit(body)}"


partners = env["res.partner"]
for start in range(0, PARTNERS, BATCH):
    partners |= env["res.partner"].create(
        [
            {
                "name": f"Cliente Bench {run} {index:05d}",
                "vat": rut_of(index),
                "country_id": chile.id,
                "is_company": True,
            }
            for index in range(start, min(start + BATCH, PARTNERS))
        ]
    )
    env.flush_all()
    env.invalidate_all()
partners = env["res.partner"].browse(partners.ids)
regular = partners[:regular_count]
small = partners[regular_count : regular_count + TIER_CALLS]  # one invoice each
big = dict(zip(big_tiers, partners[regular_count + TIER_CALLS :], strict=True))
if len(set(partners.mapped("latam_rut"))) != PARTNERS or not all(partners.mapped("latam_rut")):
    raise SystemExit("the benchmark customers do not all have distinct valid RUTs")

# --- real invoices, through the ORM ---


def real_invoices(customers):
    """One posted CLP invoice per entry of `customers` (a partner may repeat)."""
    moves = env["account.move"]
    for start in range(0, len(customers), 200):
        chunk = customers[start : start + 200]
        values = []
        for offset, customer in enumerate(chunk):
            invoice_date = today - timedelta(days=rng.randrange(1, 120))
            values.append(
                {
                    "move_type": "out_invoice",
                    "partner_id": customer.id,
                    "currency_id": clp.id,
                    "invoice_date": invoice_date,
                    "invoice_date_due": invoice_date + timedelta(days=30),
                    "invoice_line_ids": [
                        Command.create(
                            {
                                "name": "Plan hogar",
                                "quantity": 1,
                                "price_unit": 9990 + ((start + offset) % 89) * 100,
                                "tax_ids": [],
                            }
                        )
                    ],
                }
            )
        created = env["account.move"].create(values)
        created.action_post()
        env.flush_all()
        moves |= created
    return moves


def described(moves):
    return [
        {
            "rut": move.partner_id.vat,
            "factura": document_number(move),
            "amount": int(round(move.amount_residual)),
            "invoice_id": move.id,
        }
        for move in moves
    ]


regular_paid = real_invoices([regular[index % len(regular)] for index in range(REAL)])
small_paid = real_invoices(list(small))
big_paid = {size: real_invoices([big[size]] * TIER_CALLS) for size in big_tiers}
real_count = len(regular_paid) + len(small_paid) + sum(len(m) for m in big_paid.values())

# --- the volume, with SQL ---

bulk_journal = env["account.journal"].create(
    {"name": f"Bench bulk invoices {run}", "code": f"B{run[:4]}".upper(), "type": "sale"}
)
BULK_INSERT = """
INSERT INTO account_move (
    journal_id, company_id, currency_id, move_type, state, payment_state, auto_post,
    partner_id, commercial_partner_id, partner_shipping_id, invoice_partner_display_name,
    name, sequence_prefix, sequence_number, payment_reference,
    date, invoice_date, invoice_date_due, invoice_currency_rate,
    amount_untaxed, amount_tax, amount_total, amount_residual,
    amount_untaxed_signed, amount_untaxed_in_currency_signed, amount_tax_signed,
    amount_total_signed, amount_total_in_currency_signed, amount_residual_signed,
    always_tax_exigible, is_storno, checked, posted_before, made_sequence_gap,
    is_manually_modified, invoice_user_id, create_uid, write_uid, create_date, write_date
)
SELECT %(journal)s, %(company)s, %(currency)s, 'out_invoice', 'posted', 'not_paid', 'no',
    p.id, p.id, p.id, p.name,
    %(prefix)s || lpad(n::text, 7, '0'), %(prefix)s, n, %(prefix)s || lpad(n::text, 7, '0'),
    v.day, v.day, v.day + 30, 1.0,
    v.amount, 0, v.amount, v.amount,
    v.amount, v.amount, 0,
    v.amount, v.amount, v.amount,
    false, false, true, true, false,
    false, %(uid)s, %(uid)s, %(uid)s, now() at time zone 'UTC', now() at time zone 'UTC'
FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS n
JOIN unnest(%(partners)s::int[]) WITH ORDINALITY AS customer(id, position)
    ON customer.position = (n - %(first)s) %% %(partner_count)s + 1
JOIN res_partner p ON p.id = customer.id
CROSS JOIN LATERAL (
    SELECT (4990 + (n * 7919) %% 97 * 100)::numeric AS amount,
           (%(today)s::date - 1 - ((n * 104729) %% 365)::int) AS day
) AS v
"""
numbering = {"next": 1}


def bulk_invoices(customers, count):
    """`count` open invoices, spread round-robin over `customers`."""
    if count <= 0:
        return
    env.cr.execute(
        BULK_INSERT,
        {
            "journal": bulk_journal.id,
            "company": company.id,
            "currency": clp.id,
            "prefix": f"{bulk_journal.code}/",
            "uid": env.uid,
            "first": numbering["next"],
            "last": numbering["next"] + count - 1,
            "partners": customers.ids,
            "partner_count": len(customers),
            "today": today,
        },
    )
    numbering["next"] += count


env.flush_all()
bulk_invoices(regular, bulk_regular)
for size in big_tiers:
    bulk_invoices(big[size], size - TIER_CALLS)
env.cr.execute("ANALYZE account_move")
env.cr.execute("ANALYZE res_partner")
env.invalidate_all()

env.cr.execute(
    """SELECT count(*) FROM account_move
       WHERE move_type = 'out_invoice' AND state = 'posted' AND currency_id = %s
         AND commercial_partner_id = ANY(%s)""",
    [clp.id, partners.ids],
)
invoice_count = env.cr.fetchone()[0]
env.cr.execute(
    """SELECT count(*) FROM account_move WHERE move_type = 'out_invoice' AND state = 'posted'
         AND payment_state = 'not_paid' AND commercial_partner_id = %s""",
    [big[BIG].id],
)
big_open = env.cr.fetchone()[0]
env.cr.commit()

result = {
    "partners": len(partners),
    "invoices": invoice_count,
    "real_invoices": real_count,
    "bulk_invoices": invoice_count - real_count,
    "big_customer_open_invoices": big_open,
    "consult_ruts": regular.mapped("vat"),
    "payments": described(regular_paid),
    "tiers": {
        "1": {"ruts": small.mapped("vat"), "payments": described(small_paid)},
        **{
            str(size): {"ruts": [big[size].vat], "payments": described(big_paid[size])}
            for size in big_tiers
        },
    },
}
with open(os.environ["BENCH_OUTPUT"], "w", encoding="utf-8") as output:
    json.dump(result, output)
