"""After the runs: what Odoo recorded and what the gateway saw, per transaction."""

import xmlrpc.client


def transaction_states(odoo_url, db, references):
    """{reference: state}, read over XML-RPC as the throwaway database's admin."""
    rows = read_transactions(odoo_url, db, references, ["state"])
    return {reference: row["state"] for reference, row in rows.items()}


def read_transactions(odoo_url, db, references, fields):
    """{reference: {field: value}}, read over XML-RPC as the throwaway database's admin."""
    common = xmlrpc.client.ServerProxy(f"{odoo_url}/xmlrpc/2/common", allow_none=True)
    uid = common.authenticate(db, "admin", "admin", {})
    if not uid:
        raise RuntimeError("cannot log in as admin/admin to read the transactions")
    models = xmlrpc.client.ServerProxy(f"{odoo_url}/xmlrpc/2/object", allow_none=True)
    rows = models.execute_kw(
        db,
        uid,
        "admin",
        "payment.transaction",
        "search_read",
        [[("reference", "in", list(references))]],
        {"fields": ["reference", *fields]},
    )
    return {row["reference"]: row for row in rows}


def state_problems(states, references, side):
    wrong = {ref: states.get(ref, "missing") for ref in references if states.get(ref) != "done"}
    return [f"{side}: {ref} is {state}, not done" for ref, state in sorted(wrong.items())]


def commit_problems(transbank, tokens):
    """Since the returns began: each token committed exactly once, and nothing else asked."""
    problems = [
        f"webpay: token …{token[-6:]} committed {transbank.commits_of(token)} times"
        for token in tokens
        if transbank.commits_of(token) != 1
    ]
    others = [f"{call.method} {call.path}" for call in transbank.requests if call.method != "PUT"]
    if others:
        problems.append(f"webpay: {len(others)} calls other than commits, e.g. {others[:3]}")
    return problems
