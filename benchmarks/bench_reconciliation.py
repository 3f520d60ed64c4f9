"""`make bench`: the reconciliation workspace's Caja Vecina check of BENCH_RECON_ROWS
(default 100000) bank payments against one SQL join of the same data.

Data (benchmarks/prepare_reconciliation.py, inserted with SQL): BENCH_RECON_ROWS done
Caja Vecina transactions with their posted payments and accepted registrarPago exchanges
on one day, with 1% amount mismatches, 1% missing in Odoo and 1% missing at the bank;
the same at a tenth of the size on another day.

Measured, each in its own `odoo-bin shell` process (same start for each): a first run of
the day (every exception new), a second run (every exception found again), and the
baseline: one SQL query joining the exchanges FULL OUTER JOIN the done transactions and
their payments, computing the same statuses, its rows fetched. Figures: wall time, growth
of the process's peak RSS, SQL queries (Odoo's counter), printed with their ratio to the
baseline. Exits non-zero when a run's line statuses differ from the join's, or a run's SQL
queries at BENCH_RECON_ROWS exceed those at a tenth of it by more than QUERY_SLACK.
"""

import json
import os
import shutil
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path

import psycopg2

from benchmarks.odoo_process import database, run_shell_script

HERE = Path(__file__).resolve().parent
ROWS = int(os.environ.get("BENCH_RECON_ROWS", "100000"))
QUERY_SLACK = 5  # queries a run may add between the two sizes (not per row)
PASSES = ("first run", "second run")


def shell_step(workdir, step, name, **extra):
    output = workdir / f"{name}.json"
    run_shell_script(
        HERE / "prepare_reconciliation.py",
        workdir / f"{name}.log",
        {"BENCH_RECON_STEP": step, "BENCH_OUTPUT": str(output), **extra},
    )
    return json.loads(output.read_text(encoding="utf-8"))


def line_statuses(run_id):
    with closing(psycopg2.connect(dbname=database())) as connection, connection.cursor() as cr:
        cr.execute(
            "SELECT key, status FROM payment_latam_reconciliation_line WHERE run_id = %s",
            [run_id],
        )
        return dict(cr.fetchall())


def status_problems(label, lines, expected):
    problems = []
    if len(lines) != len(expected):
        problems.append(f"{label}: {len(lines)} lines, the join has {len(expected)} rows")
    wrong = sorted(
        (key, lines.get(key), status)
        for key, status in expected.items()
        if lines.get(key) != status
    )
    problems += [f"{label}: {key} is {got}, the join says {want}" for key, got, want in wrong[:10]]
    if len(wrong) > 10:
        problems.append(f"{label}: ... {len(wrong)} keys disagree")
    return problems


def measure(workdir, size, day):
    """{pass or 'join': figures} for one size, and the problems found."""
    figures, problems = {}, []
    join = shell_step(workdir, "join", f"join-{size}", BENCH_RECON_DAY=day)
    expected = join.pop("statuses")
    figures["join"] = join
    for index, label in enumerate(PASSES):
        run = shell_step(workdir, "reconcile", f"run-{size}-{index}", BENCH_RECON_DAY=day)
        figures[label] = run
        problems += status_problems(f"{label} at {size}", line_statuses(run["run_id"]), expected)
    return figures, problems


ROWS_OF_TABLE = (
    ("wall time (s)", "seconds", "{:.3f}"),
    ("peak RSS growth (MiB)", "peak_rss_kib", "{:.1f}"),
    ("SQL queries", "queries", "{:d}"),
)


def table(size, figures):
    base = figures["join"]
    width = max(len(label) for label, _key, _fmt in ROWS_OF_TABLE)
    header = f"{size:>{width}} rows  {'SQL join':>10}"
    for label in PASSES:
        header += f"  {label:>10}  {'ratio':>8}"
    lines = [header, "-" * len(header)]
    for label, key, fmt in ROWS_OF_TABLE:

        def shown(value, key=key, fmt=fmt):
            return fmt.format(value / 1024 if key == "peak_rss_kib" else value)

        line = f"{label:<{width + 5}}  {shown(base[key]):>10}"
        for run_label in PASSES:
            value = figures[run_label][key]
            ratio = f"{value / base[key]:.1f}x" if base[key] else "-"
            line += f"  {shown(value):>10}  {ratio:>8}"
        lines.append(line)
    return "\n".join(lines)


def run(workdir):
    sizes = [ROWS, max(1, ROWS // 10)]
    started = time.perf_counter()
    days = shell_step(workdir, "prepare", "prepare", BENCH_RECON_SIZES=",".join(map(str, sizes)))
    print(f"prepared {' and '.join(map(str, sizes))} rows in {time.perf_counter() - started:.1f}s")
    results, problems = {}, []
    for size in sizes:
        results[size], found = measure(workdir, size, days[str(size)]["day"])
        problems += found
    return sizes, results, problems


def main():
    workdir = Path(tempfile.mkdtemp(prefix="bench_reconciliation."))
    try:
        sizes, results, problems = run(workdir)
    except Exception:
        print(f"the benchmark failed; its logs are kept in {workdir}", file=sys.stderr)
        raise
    for size in sizes:
        print(table(size, results[size]))
        print()
    big, small = sizes
    print(f"SQL queries per run    {small:>8} rows  {big:>8} rows")
    for label in PASSES:
        counts = (results[small][label]["queries"], results[big][label]["queries"])
        print(f"{label:<22} {counts[0]:>8}       {counts[1]:>8}")
        if counts[1] > counts[0] + QUERY_SLACK:
            problems.append(
                f"{label}: {counts[1]} SQL queries at {big} rows, {counts[0]} at {small}: "
                "the count grows with the rows"
            )
    if problems:
        print("PROBLEMS:\n  " + "\n  ".join(problems))
        print(f"logs kept in {workdir}")
        sys.exit(1)
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
