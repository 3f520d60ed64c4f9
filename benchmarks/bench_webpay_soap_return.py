"""`make bench`: the cost of a Webpay return over the legacy SOAP API, against REST.

Real Odoo (a server process on a throwaway database), real PostgreSQL, real HTTP on
loopback; Transbank is two loopback simulators started in this process, the SOAP one
(WebpaySoapSimulator: checks the WS-Security signature of every request and signs
every answer) and the REST one (WebpaySimulator). The baseline is the REST return,
measured in the same run, one request of each alternated.

- SOAP: the shopper's browser posting back from Transbank's form,
  `POST /payment/webpay/soap/return` with `token_ws` (the answer, a 200 page that
  auto-submits to Transbank's voucher, is not followed). Inside it Odoo signs and
  sends `getTransactionResult`, verifies the signed answer, signs and sends
  `acknowledgeTransaction`, verifies that answer, and sets the transaction done.
- REST: `GET /payment/webpay/return?token_ws=...` (its redirect not followed):
  one commit (PUT) and the transaction done, as in bench_webpay_return.

The two use separate providers (the module's Webpay on REST, a copy of it on SOAP),
since the gateway URL is a provider setting. The simulators run in this process and
time their own handling of each call (signing their answers and checking Odoo's
signatures, for SOAP): that part of the server time is the stand-in gateway's, printed
apart so Odoo's own share can be read off. Post-processing (`_post_process`) runs
later, in neither request. The script exits non-zero when a SOAP return does not make
exactly one getTransactionResult and one acknowledgeTransaction call, when a REST return
does not make exactly one commit, or when a payment does not end done.

BENCH_RETURNS (default 30) measured requests per side, after BENCH_WARMUP (default 5).
"""

import base64
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import requests

from benchmarks import checks, measured_calls, stats
from benchmarks.odoo_process import OdooServer, database, run_shell_script
from benchmarks.request_log import RequestLog
from simulators.webpay import WebpaySimulator
from simulators.webpay_soap import VOUCHER_PATH, WebpaySoapSimulator

HERE = Path(__file__).resolve().parent
RETURNS = int(os.environ.get("BENCH_RETURNS", "30"))
WARMUP = int(os.environ.get("BENCH_WARMUP", "5"))
SOAP_RETURN = "/payment/webpay/soap/return"
SOAP_OPERATIONS = ("getTransactionResult", "acknowledgeTransaction")


class _Timed:
    """A simulator that records how long it spent answering each request (`handling`, in
    seconds, in arrival order): the part of a return's time that is the loopback
    gateway's own work, not Odoo's."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.handling = []

    def _respond(self, request):
        start = time.perf_counter()
        try:
            return super()._respond(request)
        finally:
            self.handling.append(time.perf_counter() - start)


class TimedWebpaySimulator(_Timed, WebpaySimulator):
    pass


class TimedWebpaySoapSimulator(_Timed, WebpaySoapSimulator):
    pass


def _with_gateway_time(sample, transbank, handled_before):
    measured = sample.as_dict()
    measured["gateway"] = sum(transbank.handling[handled_before:])
    return measured


def _b64(pem):
    return base64.b64encode(pem).decode()


def prepare(rest_transbank, soap_transbank, count, workdir):
    """Open `count` SOAP and `count` REST Webpay transactions, as the checkout does."""
    output = workdir / "transactions.json"
    run_shell_script(
        HERE / "prepare_soap_transactions.py",
        workdir / "prepare.log",
        {
            "BENCH_COUNT": str(count),
            "BENCH_REST_SIMULATOR_URL": rest_transbank.url,
            "BENCH_SOAP_SIMULATOR_URL": soap_transbank.url,
            # The simulator's integration merchant: its generated key, never a real one.
            "BENCH_SOAP_PRIVATE_KEY": _b64(soap_transbank.integration_key_pem),
            "BENCH_SOAP_CERTIFICATE": _b64(soap_transbank.integration_certificate_pem),
            "BENCH_SOAP_TRANSBANK_CERTIFICATE": _b64(soap_transbank.transbank_certificate_pem),
            "BENCH_OUTPUT": str(output),
        },
    )
    transactions = json.loads(output.read_text(encoding="utf-8"))
    for side in ("soap", "rest"):
        if not all(tx["token"] and tx["api"] == side for tx in transactions[side]):
            raise RuntimeError(f"a {side} transaction was not opened over {side} at its simulator")
    return transactions


def soap_operations(call):
    """The SOAP operations among SOAP_OPERATIONS whose element a request's body carries."""
    if call.method != "POST":
        return []
    return [
        operation
        for operation in SOAP_OPERATIONS
        if f":{operation}>".encode() in call.body or f"<{operation}>".encode() in call.body
    ]


def soap_return(http, odoo_url, log, transbank, token):
    """The shopper approves on Transbank's SOAP form, then posts back to us: one sample."""
    decided = transbank._decide(token, "approve")
    calls_before = len(transbank.requests)
    handled_before = len(transbank.handling)
    start = time.perf_counter()
    response = http.post(
        f"{odoo_url}{SOAP_RETURN}",
        data={"token_ws": token},
        allow_redirects=False,
        timeout=measured_calls.TIMEOUT,
    )
    wall = time.perf_counter() - start
    calls = transbank.requests[calls_before:]
    logged = log.wait_for("POST", SOAP_RETURN)  # the token travels in the body: not logged
    sample = measured_calls.Sample(wall, logged.server_seconds, logged.queries)
    if decided.status != 200:
        sample.problems.append(f"the simulator refused the shopper's approval ({decided.status})")
    if response.status_code != 200 or f"{transbank.url}{VOUCHER_PATH}" not in response.text:
        sample.problems.append(
            f"return answered {response.status_code}, not the page to Transbank's voucher"
        )
    made = [operation for call in calls for operation in soap_operations(call)]
    if len(calls) != 2 or sorted(made) != sorted(SOAP_OPERATIONS):
        described = [
            f"{call.method} {call.path} {soap_operations(call) or '(other)'}" for call in calls
        ]
        sample.problems.append(f"gateway calls during the return: {described or 'none'}")
    return sample, handled_before


def measure(odoo, log, rest_transbank, soap_transbank, transactions):
    """Alternate SOAP and REST returns; keep the samples after the warm-up."""
    http = requests.Session()
    soap, rest, problems = [], [], []
    pairs = zip(transactions["soap"], transactions["rest"], strict=True)
    for index, (soap_tx, rest_tx) in enumerate(pairs):
        soap_sample, soap_handled = soap_return(
            http, odoo.url, log, soap_transbank, soap_tx["token"]
        )
        rest_handled = len(rest_transbank.handling)
        rest_sample = measured_calls.webpay_return(
            http, odoo.url, log, rest_transbank, rest_tx["token"]
        )
        problems += [f"{soap_tx['reference']}: {p}" for p in soap_sample.problems]
        problems += [f"{rest_tx['reference']}: {p}" for p in rest_sample.problems]
        if index >= WARMUP:
            soap.append(_with_gateway_time(soap_sample, soap_transbank, soap_handled))
            rest.append(_with_gateway_time(rest_sample, rest_transbank, rest_handled))
    return soap, rest, problems


def summarize(samples):
    """Median and 90th percentile of wall time, server time, simulator time, SQL queries."""
    figures = {"wall": [s["wall"] * 1000 for s in samples]}
    figures["server"] = [s["server"] * 1000 for s in samples]
    figures["gateway"] = [s["gateway"] * 1000 for s in samples]
    figures["queries"] = [s["queries"] for s in samples]
    summary = {"n": len(samples)}
    for name, values in figures.items():
        summary[f"{name}_median"] = statistics.median(values)
        summary[f"{name}_p90"] = stats.percentile(values, 0.9)
    return summary


ROWS = (
    ("wall time, median (ms)", "wall_median", "{:.1f}"),
    ("wall time, p90 (ms)", "wall_p90", "{:.1f}"),
    ("server time, median (ms)", "server_median", "{:.1f}"),
    ("server time, p90 (ms)", "server_p90", "{:.1f}"),
    ("  of it simulator, median (ms)", "gateway_median", "{:.1f}"),
    ("SQL queries, median", "queries_median", "{:g}"),
    ("SQL queries, p90", "queries_p90", "{:g}"),
)

WHAT_IS_MEASURED = """\
Measured per request: wall = client side, from sending it to reading the answer, over
real HTTP on loopback; server = Odoo's own time for it and queries = its SQL count, both
from Odoo's werkzeug log line; "of it simulator" = the loopback simulators' own handling
of the return's gateway calls (their signing and verifying included), inside server time.
SOAP: POST /payment/webpay/soap/return (token_ws in the form; the voucher page it answers
is not followed), including getTransactionResult and acknowledgeTransaction at the
loopback SOAP simulator, each signed (WS-Security) by Odoo and answered signed.
Baseline: REST, GET /payment/webpay/return?token_ws=... (its redirect not followed),
including the commit (PUT) at the loopback REST simulator. Both set the transaction
done; post-processing (_post_process) runs later, in neither."""


def run(workdir):
    """Measure both sides and check the outcome: (soap, rest, facts, problems)."""
    count = WARMUP + RETURNS
    with TimedWebpaySimulator() as rest_transbank, TimedWebpaySoapSimulator() as soap_transbank:
        transactions = prepare(rest_transbank, soap_transbank, count, workdir)
        rest_transbank.reset_log()  # from here on, only the returns' calls
        soap_transbank.reset_log()
        with OdooServer(workdir / "odoo.log") as odoo:
            log = RequestLog(odoo.log_path)
            log.skip_to_end()
            soap, rest, problems = measure(odoo, log, rest_transbank, soap_transbank, transactions)
            soap_refs = [tx["reference"] for tx in transactions["soap"]]
            rest_refs = [tx["reference"] for tx in transactions["rest"]]
            rows = checks.read_transactions(
                odoo.url, database(), soap_refs + rest_refs, ["state", "webpay_api"]
            )
        states = {reference: row["state"] for reference, row in rows.items()}
        problems += checks.state_problems(states, soap_refs, "soap")
        problems += checks.state_problems(states, rest_refs, "rest")
        problems += [
            f"{side}: {ref} went over {rows[ref]['webpay_api']}"
            for side, refs in (("soap", soap_refs), ("rest", rest_refs))
            for ref in refs
            if ref in rows and rows[ref]["webpay_api"] != side
        ]
        problems += checks.commit_problems(
            rest_transbank, [tx["token"] for tx in transactions["rest"]]
        )
        soap_calls = soap_transbank.requests
        made = [operation for call in soap_calls for operation in soap_operations(call)]
        commits = len(rest_transbank.requests_to(r"/transactions/[^/]+$", method="PUT"))
        facts = (
            f"SOAP gateway: {count} returns, {made.count('getTransactionResult')} "
            f"getTransactionResult, {made.count('acknowledgeTransaction')} "
            f"acknowledgeTransaction, {len(soap_calls) - len(made)} other calls\n"
            f"REST gateway: {count} returns, {commits} commits (PUT), "
            f"{len(rest_transbank.requests) - commits} other calls\n"
            f"transactions done: {sum(state == 'done' for state in states.values())} of "
            f"{2 * count} ({count} soap + {count} rest)"
        )
    return soap, rest, facts, problems


def main():
    workdir = Path(tempfile.mkdtemp(prefix="bench_webpay_soap_return_"))
    soap, rest, facts, problems = run(workdir)
    print(
        f"Webpay return, SOAP vs REST: {RETURNS} requests each after {WARMUP} warm-up pairs, "
        f"alternated; one Odoo server (--workers=0, no cron), {os.cpu_count()} CPUs."
    )
    print(WHAT_IS_MEASURED)
    print()
    reference = summarize(rest)
    print(
        stats.ratio_table(
            [("REST return", reference, None), ("SOAP return", summarize(soap), reference)],
            rows=ROWS,
        )
    )
    print("(ratio: SOAP / REST)")
    print()
    print(facts)
    if problems:
        print(f"check FAILED: {len(problems)} problem(s); Odoo's log: {workdir / 'odoo.log'}")
        for problem in problems[:20]:
            print(f"  {problem}")
        return 1
    print(
        "check OK: each SOAP return read the result once and acknowledged it once; "
        "each REST return committed once; every payment done"
    )
    shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
