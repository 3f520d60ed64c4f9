"""`make bench`: a Unicomer collection at the counter, as the cashier's browser makes it,
against a bare Odoo route and against Unicomer's own round trip.

Real Odoo (one server process on the throwaway database; BENCH_WORKERS workers, default
0: Odoo's threaded mode; no cron), real PostgreSQL, real HTTP on loopback; Unicomer is the
loopback UnicomerSimulator, started in this process. A cashier (a user with only the
cashier's group) logs in and works the counter form over JSON-RPC as the web client does
(one keep-alive session; /web/dataset/call_kw and /web/dataset/call_button), in order:

    create({"customer_vat"}), action_search     the look-up: Odoo asks estadocuenta
    web_read                                    the form reloads with the credits
    action_select on the credit (unless the only credit was selected), write({"amount"})
    action_collect                              the registration: Odoo commits the
                                                collection, sends registrarpago, commits
    web_read                                    the form shows the collection

Baselines, measured in the same loop: Odoo's `GET /web/health` on the same server and
session (Odoo's request dispatch, no business work), and Unicomer itself: estadocuenta and
registrarpago posted straight from this process to the simulator, with the token Odoo
obtained and the bodies Odoo's client builds, one fresh connection each as Odoo's client
makes. The registrarpago ratio is Odoo's overhead over the gateway.

BENCH_CALLS (default 100) collections after BENCH_WARMUP (default 5), amounts 0.01 to 1.00
so that the credits' debts last (the simulator refuses more than `deuda_tot_conpro`):
0101690808's first credit while it lasts, then other demo credits; the direct
registrations pay 0101690808's second credit. Exits non-zero when a collection does not
end authorized with unicomer_status registered, when the simulator does not hold exactly
one payment per collection (distinct num_recibo), or when the token endpoint was not hit
exactly once over the whole run (the token is kept in the database).
"""

import itertools
import json
import os
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import requests

from benchmarks import checks, stats
from benchmarks.measured_calls import Sample
from benchmarks.odoo_process import OdooServer, database, run_shell_script
from benchmarks.request_log import RequestLog
from gateways import unicomer_api
from gateways.unicomer_const import DEFAULT_PATHS
from simulators.unicomer import DEMO_ACCOUNTS, SANDBOX_IDCOMMERCE, UnicomerSimulator

HERE = Path(__file__).resolve().parent
CALLS = int(os.environ.get("BENCH_CALLS", "100"))
WARMUP = int(os.environ.get("BENCH_WARMUP", "5"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "0"))
TIMEOUT = 60

CASHIER = "payment.unicomer.cashier"
CREDIT_LINE = "payment.unicomer.cashier.credit"
BASELINE = "/web/health"
# (customer, credit) paid through Odoo, in this order while each debt lasts; the first
# is 0101690808's first credit line, which the cashier selects among its two.
ODOO_CREDITS = (("0101690808", 228085), ("1790011674001", 228410), ("1712345675", 228301))
DIRECT_CREDITS = (("0101690808", 228086),)
DIRECT_PREFIX = "BENCH-DIRECT-"
# What the form view reads back after a button (a subset: what the cashier looks at).
SEARCHED_FORM = {
    "step": {},
    "selected_line_id": {"fields": {}},
    "credit_line_ids": {"fields": {"credit_id": {}, "total_debt": {}}},
}
COLLECTED_FORM = {
    "step": {},
    "transaction_id": {"fields": {"display_name": {}}},
    "transaction_state": {},
    "transaction_unicomer_status": {},
}
STEPS = ("create", "action_search", "reload", "action_select", "write", "action_collect")


def amounts(count):
    """`count` amounts from 0.01 to 1.00, in a fixed order (37 is prime to 100)."""
    return [Decimal(1 + index * 37 % 100) / 100 for index in range(count)]


def plan(count, credits):
    """(customer, credit id, amount) for `count` payments, each credit paid while its
    debt at the simulator lasts."""
    debt = {
        credit["id"]: credit["deuda_tot_conpro"]
        for account in DEMO_ACCOUNTS.values()
        for credit in account["facturas"]
    }
    queue, planned = list(credits), []
    for amount in amounts(count):
        while queue and debt[queue[0][1]] < amount:
            queue.pop(0)
        if not queue:
            raise SystemExit(f"{count} payments exceed the simulator's demo debt on {credits}")
        customer, credit = queue[0]
        debt[credit] -= amount
        planned.append((customer, credit, amount))
    return planned


def prepare(unicomer, workdir):
    """The provider pointed at the simulator and a cashier; returns the cashier's login."""
    output = workdir / "cashier.json"
    run_shell_script(
        HERE / "prepare_unicomer.py",
        workdir / "prepare.log",
        {"BENCH_SIMULATOR_URL": unicomer.url, "BENCH_OUTPUT": str(output)},
    )
    return json.loads(output.read_text(encoding="utf-8"))


class RpcError(Exception):
    pass


class CashierBrowser:
    """The cashier's web client: one session, JSON-RPC as the form view sends it, each
    call timed on the client and costed from Odoo's log line for it."""

    def __init__(self, odoo_url, log):
        self.odoo_url = odoo_url
        self.log = log
        self.http = requests.Session()
        self.context = {}
        self._ids = itertools.count(1)

    def _post(self, path, params):
        payload = {"jsonrpc": "2.0", "method": "call", "id": next(self._ids), "params": params}
        response = self.http.post(f"{self.odoo_url}{path}", json=payload, timeout=TIMEOUT)
        if response.status_code != 200:
            raise RpcError(f"{path} answered HTTP {response.status_code}")
        answer = response.json()
        if "error" in answer:
            error = answer["error"]
            raise RpcError(f"{path}: {error.get('data', {}).get('message') or error}")
        return answer["result"]

    def login(self, login, password):
        params = {"db": database(), "login": login, "password": password}
        info = self._post("/web/session/authenticate", params)
        if not info.get("uid"):
            raise RuntimeError(f"cannot log in as {login}")
        company = info["user_companies"]["current_company"]
        self.context = {**info["user_context"], "allowed_company_ids": [company]}

    def call(self, route, model, method, args, kwargs=None):
        """(result, Sample) of `/web/dataset/<route>/<model>/<method>`."""
        path = f"/web/dataset/{route}/{model}/{method}"
        params = {
            "model": model,
            "method": method,
            "args": args,
            "kwargs": {**(kwargs or {}), "context": self.context},
        }
        result, problem = None, None
        start = time.perf_counter()
        try:
            result = self._post(path, params)
        except RpcError as error:
            problem = str(error)
        wall = time.perf_counter() - start
        logged = self.log.wait_for("POST", path)
        sample = Sample(wall, logged.server_seconds, logged.queries)
        if problem:
            sample.problems.append(problem)
        return result, sample

    def health(self):
        start = time.perf_counter()
        response = self.http.get(f"{self.odoo_url}{BASELINE}", timeout=TIMEOUT)
        wall = time.perf_counter() - start
        logged = self.log.wait_for("GET", BASELINE)
        sample = Sample(wall, logged.server_seconds, logged.queries)
        if not response.ok:
            sample.problems.append(f"{BASELINE} answered {response.status_code}")
        return sample


class StepFailed(Exception):
    pass


def collect(browser, customer, credit_id, amount):
    """One collection, the cashier's clicks in order: ({step: Sample}, the form after it)."""
    steps = {}

    def click(step, route, model, method, args, kwargs=None):
        result, sample = browser.call(route, model, method, args, kwargs)
        steps[step] = sample
        if sample.problems:
            raise StepFailed(f"{customer} {step}: {sample.problems[0]}")
        return result

    cashier = click("create", "call_kw", CASHIER, "create", [{"customer_vat": customer}])
    click("action_search", "call_button", CASHIER, "action_search", [[cashier]])
    spec = {"specification": SEARCHED_FORM}
    (form,) = click("reload", "call_kw", CASHIER, "web_read", [[cashier]], spec)
    lines = [line for line in form["credit_line_ids"] if line["credit_id"] == str(credit_id)]
    if len(lines) != 1:
        raise StepFailed(f"{customer}: credit {credit_id} is not in the statement")
    if (form["selected_line_id"] or {}).get("id") != lines[0]["id"]:
        click("action_select", "call_button", CREDIT_LINE, "action_select", [[lines[0]["id"]]])
    click("write", "call_kw", CASHIER, "write", [[cashier], {"amount": float(amount)}])
    click("action_collect", "call_button", CASHIER, "action_collect", [[cashier]])
    spec = {"specification": COLLECTED_FORM}
    (form,) = click("reload_collected", "call_kw", CASHIER, "web_read", [[cashier]], spec)
    return steps, form


class Gateway:
    """Unicomer's own round trip: the simulator called straight from this process, with
    the token Odoo obtained (no login of its own) and the bodies Odoo's client builds."""

    def __init__(self, unicomer):
        self.unicomer = unicomer
        self._numbers = itertools.count(1)
        self._run = secrets.token_hex(3)

    def _token(self):
        with self.unicomer.state_lock:
            tokens = list(self.unicomer.tokens)
        if len(tokens) != 1:
            raise RuntimeError(f"the simulator holds {len(tokens)} tokens, expected Odoo's one")
        return tokens[0]

    def _post(self, path_key, body):
        url = unicomer_api.join_url(self.unicomer.url, DEFAULT_PATHS[path_key])
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Accept": "application/json",
            "Authorization": f"Bearer {self._token()}",
        }
        start = time.perf_counter()
        response = requests.post(url, data=body.encode("utf-8"), headers=headers, timeout=TIMEOUT)
        sample = Sample(time.perf_counter() - start, None, None)
        answer = response.json() if response.status_code == 200 else {}
        if answer.get("status") != 0:
            sample.problems.append(
                f"direct {path_key}: HTTP {response.status_code}, {response.text[:200]}"
            )
        return sample

    def statement(self, customer):
        body = unicomer_api.json_object([("cliente", customer), ("idcommerce", SANDBOX_IDCOMMERCE)])
        return self._post("account_statement", body)

    def register(self, credit_id, amount):
        body = unicomer_api.payment_body(
            credit_id=credit_id,
            idcommerce=SANDBOX_IDCOMMERCE,
            processed_at=unicomer_api.process_time(),
            amount=amount,
            locality="MATRIZ CUENCA",
            cashier="CAJERO DIRECTO",
            receipt_number=f"{DIRECT_PREFIX}{self._run}-{next(self._numbers):05d}",
        )
        return self._post("register", body)


def measure(browser, gateway):
    """Interleaved per round: /web/health, one collection, the direct estadocuenta and
    registrarpago. Returns ({kind: samples} after the warm-up, references, problems)."""
    samples = {
        kind: [] for kind in ("baseline", "lookup", "registration", "estadocuenta", "registrarpago")
    }
    samples.update({step: [] for step in STEPS})
    references, problems = [], []
    count = WARMUP + CALLS
    rounds = zip(plan(count, ODOO_CREDITS), plan(count, DIRECT_CREDITS), strict=True)
    for index, ((customer, credit, amount), (_c, direct_credit, direct_amount)) in enumerate(
        rounds
    ):
        measured = index >= WARMUP
        health = browser.health()
        try:
            steps, form = collect(browser, customer, credit, amount)
        except StepFailed as error:
            problems.append(str(error))
            continue
        transaction = form["transaction_id"] or {}
        references.append(transaction.get("display_name"))
        if (form["transaction_state"], form["transaction_unicomer_status"]) != (
            "authorized",
            "registered",
        ):
            problems.append(
                f"{transaction.get('display_name')}: the counter shows "
                f"{form['transaction_state']} / {form['transaction_unicomer_status']}"
            )
        statement = gateway.statement(customer)
        registration = gateway.register(direct_credit, direct_amount)
        for sample in (health, statement, registration):
            problems += sample.problems
        if not measured:
            continue
        lookup = (steps["create"], steps["action_search"])
        samples["lookup"].append(
            {
                "wall": sum(s.wall for s in lookup),
                "server": sum(s.server for s in lookup),
                "queries": sum(s.queries for s in lookup),
            }
        )
        samples["registration"].append(steps["action_collect"].as_dict())
        samples["baseline"].append(health.as_dict())
        samples["estadocuenta"].append(statement.as_dict())
        samples["registrarpago"].append(registration.as_dict())
        for step in STEPS:
            if step in steps:
                samples[step].append(steps[step].as_dict())
    return samples, references, problems


def gateway_problems(unicomer, references, direct_count):
    """One simulator payment per collection (its num_recibo Odoo's reference), distinct
    receipts, and one login over the whole run."""
    payments = unicomer.payments
    receipts = [payment["num_recibo"] for payment in payments]
    through_odoo = [r for r in receipts if not r.startswith(DIRECT_PREFIX)]
    problems = []
    if len(set(receipts)) != len(receipts):
        problems.append(f"unicomer: {len(receipts) - len(set(receipts))} repeated num_recibo")
    if len(through_odoo) != len(references) or set(through_odoo) != set(references):
        problems.append(
            f"unicomer: {len(through_odoo)} payments through Odoo for {len(references)} "
            f"collections; unmatched: {sorted(set(through_odoo) ^ set(references))[:5]}"
        )
    if len(receipts) - len(through_odoo) != direct_count:
        problems.append(
            f"unicomer: {len(receipts) - len(through_odoo)} direct payments, not {direct_count}"
        )
    logins = len(unicomer.requests_to(r"(?i)^/token$"))
    if logins != 1 or unicomer.logins != 1:
        problems.append(f"unicomer: the token endpoint was hit {logins} times, not once")
    return problems


def state_problems(rows, references):
    problems = []
    for reference in references:
        row = rows.get(reference) or {}
        if (row.get("state"), row.get("unicomer_status")) != ("authorized", "registered"):
            problems.append(
                f"{reference} is {row.get('state', 'missing')} / {row.get('unicomer_status')}, "
                "not authorized / registered"
            )
    return problems


def run(workdir):
    with UnicomerSimulator() as unicomer:
        cashier = prepare(unicomer, workdir)
        with OdooServer(workdir / "odoo.log", workers=WORKERS) as odoo:
            log = RequestLog(odoo.log_path)
            browser = CashierBrowser(odoo.url, log)
            browser.login(cashier["login"], cashier["password"])
            log.skip_to_end()
            samples, references, problems = measure(browser, Gateway(unicomer))
            fields = ["state", "unicomer_status"]
            rows = checks.read_transactions(odoo.url, database(), references, fields)
        problems += state_problems(rows, references)
        problems += gateway_problems(unicomer, references, WARMUP + CALLS)
        calls = {
            name: len(unicomer.requests_to(rf"(?i)/api/recaudadores/{name}$"))
            for name in ("estadocuenta", "registrarpago")
        }
        facts = (
            f"gateway: {calls['estadocuenta']} estadocuenta and {calls['registrarpago']} "
            f"registrarpago calls for {len(references)} collections and as many direct calls "
            f"of each; {unicomer.logins} login; {len(unicomer.payments)} payments on file"
        )
        if calls["estadocuenta"] != 2 * (WARMUP + CALLS):
            problems.append(f"unicomer: {calls['estadocuenta']} estadocuenta calls")
        if calls["registrarpago"] != 2 * (WARMUP + CALLS):
            problems.append(f"unicomer: {calls['registrarpago']} registrarpago calls")
    return samples, facts, problems


def step_report(samples):
    """Median wall time and SQL queries of each request of a collection."""
    cells = []
    for step in STEPS:
        if samples[step]:
            wall = statistics.median(s["wall"] for s in samples[step]) * 1000
            queries = statistics.median(s["queries"] for s in samples[step])
            cells.append(f"{step} {wall:.1f} ms / {queries:g} q")
    return "Each request of a collection (median wall / SQL queries): " + ", ".join(cells)


def server_mode():
    if WORKERS:
        return f"--workers={WORKERS}: prefork"
    return "--workers=0: threaded"


def main():
    workdir = Path(tempfile.mkdtemp(prefix="bench_unicomer_"))
    started = time.perf_counter()
    samples, facts, problems = run(workdir)
    summary = {kind: stats.summarize_p95(found) for kind, found in samples.items() if found}
    if not {"baseline", "lookup", "registration"} <= set(summary):
        print(f"check FAILED: nothing measured; Odoo's log: {workdir / 'odoo.log'}")
        for problem in problems[:20]:
            print(f"  {problem}")
        return 1
    print(
        f"Unicomer collection at the counter, as the cashier's browser makes it: {CALLS} "
        f"collections after {WARMUP} warm-up ones, each round interleaved with the baselines; "
        f"one Odoo server ({server_mode()}, no cron), {os.cpu_count()} CPUs shared with "
        f"PostgreSQL, the simulator and this client; {time.perf_counter() - started:.0f}s."
    )
    print(
        "look-up = create + action_search (Odoo -> estadocuenta); registration = "
        "action_collect (commit, Odoo -> registrarpago, commit). wall = client side; server "
        "= Odoo's own time and SQL queries = its count, from its log line; ratio = value / "
        "the reference column's."
    )
    print()
    print(f"Against Odoo's bare route ({BASELINE}, same server and session):")
    base = summary["baseline"]
    print(
        stats.ratio_table(
            [
                (f"GET {BASELINE}", base, None),
                ("look-up", summary["lookup"], base),
                ("registration", summary["registration"], base),
            ]
        )
    )
    print()
    print(
        "Against Unicomer's own round trip (the simulator called directly from this process, "
        "same bodies and token, a fresh connection each, as Odoo's client does):"
    )
    estadocuenta, registrarpago = summary["estadocuenta"], summary["registrarpago"]
    print(
        stats.ratio_table(
            [
                ("estadocuenta", estadocuenta, None),
                ("look-up", summary["lookup"], estadocuenta),
                ("registrarpago", registrarpago, None),
                ("registration", summary["registration"], registrarpago),
            ],
            rows=stats.P95_ROWS[:2],
        )
    )
    overhead = (
        f"Odoo's overhead over the gateway, median: look-up "
        f"+{summary['lookup']['wall_median_ms'] - estadocuenta['wall_median_ms']:.1f} ms, "
        f"registration "
        f"+{summary['registration']['wall_median_ms'] - registrarpago['wall_median_ms']:.1f} ms"
    )
    print(overhead)
    print(step_report(samples))
    print()
    print(facts)
    if problems:
        print(f"check FAILED: {len(problems)} problem(s); Odoo's log: {workdir / 'odoo.log'}")
        for problem in problems[:20]:
            print(f"  {problem}")
        return 1
    print(
        f"check OK: all {WARMUP + CALLS} collections authorized, unicomer_status registered; "
        "the simulator holds exactly one payment per collection (distinct num_recibo); "
        "one login (/token) over the whole run"
    )
    shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
