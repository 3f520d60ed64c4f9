"""`make bench`: the cost of processing one Webpay return, against payment_demo.

Real Odoo (a server process on a throwaway database), real PostgreSQL, real HTTP on
loopback; Transbank is the loopback WebpaySimulator, started in this process. Each
Webpay return must call the gateway exactly once (its commit); the script exits
non-zero when it does not, or when a payment does not end done.

BENCH_RETURNS (default 30) measured requests per side, after BENCH_WARMUP (default 5).
"""

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import requests

from benchmarks import checks, measured_calls, stats
from benchmarks.odoo_process import OdooServer, database, run_shell_script
from benchmarks.request_log import RequestLog
from simulators.webpay import WebpaySimulator

HERE = Path(__file__).resolve().parent
RETURNS = int(os.environ.get("BENCH_RETURNS", "30"))
WARMUP = int(os.environ.get("BENCH_WARMUP", "5"))


def prepare(transbank, count, workdir):
    """Create `count` Webpay and `count` demo transactions, opened as the checkout does."""
    output = workdir / "transactions.json"
    run_shell_script(
        HERE / "prepare_transactions.py",
        workdir / "prepare.log",
        {
            "BENCH_COUNT": str(count),
            "BENCH_SIMULATOR_URL": transbank.url,
            "BENCH_OUTPUT": str(output),
        },
    )
    transactions = json.loads(output.read_text(encoding="utf-8"))
    if not all(tx["token"] for tx in transactions["webpay"]):
        raise RuntimeError("a Webpay transaction was not opened at the simulator")
    return transactions


def measure(odoo, log, transbank, transactions):
    """Alternate Webpay returns and demo payments; keep the samples after the warm-up."""
    http = requests.Session()
    webpay, demo, problems = [], [], []
    pairs = zip(transactions["webpay"], transactions["demo"], strict=True)
    for index, (webpay_tx, demo_tx) in enumerate(pairs):
        returned = measured_calls.webpay_return(http, odoo.url, log, transbank, webpay_tx["token"])
        paid = measured_calls.demo_payment(http, odoo.url, log, demo_tx["reference"])
        problems += [f"{webpay_tx['reference']}: {p}" for p in returned.problems]
        problems += [f"{demo_tx['reference']}: {p}" for p in paid.problems]
        if index >= WARMUP:
            webpay.append(returned.as_dict())
            demo.append(paid.as_dict())
    return webpay, demo, problems


WHAT_IS_MEASURED = """\
Measured per request: wall = client side, from sending it to reading the answer, over
real HTTP on loopback; server = Odoo's own time for it and queries = its SQL count, both
from Odoo's werkzeug log line. Webpay: GET /payment/webpay/return?token_ws=... (its
redirect not followed), including the commit at the loopback Transbank simulator.
Baseline: Odoo's payment_demo, POST /payment/demo/simulate_payment (JSON-RPC). Both
set the transaction done; post-processing (_post_process) runs later, in neither."""


def run(workdir):
    """Measure both sides and check the outcome: (webpay, demo, facts, problems)."""
    count = WARMUP + RETURNS
    with WebpaySimulator() as transbank:
        transactions = prepare(transbank, count, workdir)
        transbank.reset_log()  # from here on, only the returns' calls
        with OdooServer(workdir / "odoo.log") as odoo:
            log = RequestLog(odoo.log_path)
            log.skip_to_end()
            webpay, demo, problems = measure(odoo, log, transbank, transactions)
            webpay_refs = [tx["reference"] for tx in transactions["webpay"]]
            demo_refs = [tx["reference"] for tx in transactions["demo"]]
            states = checks.transaction_states(odoo.url, database(), webpay_refs + demo_refs)
        problems += checks.state_problems(states, webpay_refs, "webpay")
        problems += checks.state_problems(states, demo_refs, "demo")
        problems += checks.commit_problems(
            transbank, [tx["token"] for tx in transactions["webpay"]]
        )
        commits = len(transbank.requests_to(r"/transactions/[^/]+$", method="PUT"))
        facts = (
            f"gateway: {count} returns, {commits} commits (PUT), "
            f"{len(transbank.requests) - commits} other calls; transactions done: "
            f"{sum(state == 'done' for state in states.values())} of {2 * count} "
            f"({count} webpay + {count} demo)"
        )
    return webpay, demo, facts, problems


def main():
    workdir = Path(tempfile.mkdtemp(prefix="bench_webpay_return_"))
    webpay, demo, facts, problems = run(workdir)
    print(
        f"Webpay return vs payment_demo: {RETURNS} requests each after {WARMUP} warm-up pairs, "
        f"alternated; one Odoo server (--workers=0, no cron), {os.cpu_count()} CPUs."
    )
    print(WHAT_IS_MEASURED)
    print()
    print(
        stats.table("webpay return", stats.summarize(webpay), "payment_demo", stats.summarize(demo))
    )
    print()
    print(facts)
    if problems:
        print(f"check FAILED: {len(problems)} problem(s); Odoo's log: {workdir / 'odoo.log'}")
        for problem in problems[:20]:
            print(f"  {problem}")
        return 1
    print("check OK: exactly one gateway call (the commit) per return; every payment done")
    shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
