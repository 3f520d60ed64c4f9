"""The two requests compared, each timed from the client and costed from Odoo's log.

- Webpay: the shopper's browser coming back from Transbank's form,
  `GET /payment/webpay/return?token_ws=...` (the redirect to /payment/status is
  not followed). Odoo commits the payment at Transbank (the simulator) and sets
  the transaction done.
- Baseline: Odoo's own `payment_demo` processing a payment, the JSON-RPC call its
  checkout makes, `POST /payment/demo/simulate_payment` with a reference,
  `payment_details` and `simulated_state: done`; no gateway involved.

Both end in `payment.transaction._handle_notification_data` and `_set_done` inside
the request; post-processing (`_post_process`: invoices, `account.payment`) runs
later from /payment/status/poll or the cron, in neither request.
"""

import time
from dataclasses import dataclass, field

WEBPAY_RETURN = "/payment/webpay/return"
DEMO_PAYMENT = "/payment/demo/simulate_payment"
TIMEOUT = 60


@dataclass
class Sample:
    wall: float  # seconds, client side: request sent to response read
    server: float  # seconds, Odoo side: query time + other time, from its log line
    queries: int
    problems: list = field(default_factory=list)

    def as_dict(self):
        return {"wall": self.wall, "server": self.server, "queries": self.queries}


def _timed(call):
    start = time.perf_counter()
    response = call()
    return response, time.perf_counter() - start


def webpay_return(http, odoo_url, log, transbank, token):
    """The shopper approves on Transbank's form, then comes back to us: one sample."""
    transbank._decide(token, "approve")
    calls_before = len(transbank.requests)
    response, wall = _timed(
        lambda: http.get(
            f"{odoo_url}{WEBPAY_RETURN}",
            params={"token_ws": token},
            allow_redirects=False,
            timeout=TIMEOUT,
        )
    )
    calls = transbank.requests[calls_before:]
    # The access log masks the token (controllers/log_redaction.py); calls are sequential.
    logged = log.wait_for("GET", f"{WEBPAY_RETURN}?token_ws=")
    sample = Sample(wall, logged.server_seconds, logged.queries)
    if response.status_code != 303 or not response.headers.get("Location", "").endswith(
        "/payment/status"
    ):
        sample.problems.append(f"return answered {response.status_code}, not a redirect")
    described = [f"{call.method} {call.path}" for call in calls]
    if len(calls) != 1 or calls[0].method != "PUT" or not calls[0].path.endswith(f"/{token}"):
        sample.problems.append(f"gateway calls during the return: {described or 'none'}")
    return sample


def demo_payment(http, odoo_url, log, reference):
    """Odoo's payment_demo processes a payment: one baseline sample."""
    payload = {
        "jsonrpc": "2.0",
        "method": "call",
        "id": 1,
        "params": {"reference": reference, "payment_details": "4242", "simulated_state": "done"},
    }
    response, wall = _timed(
        lambda: http.post(f"{odoo_url}{DEMO_PAYMENT}", json=payload, timeout=TIMEOUT)
    )
    logged = log.wait_for("POST", DEMO_PAYMENT)
    sample = Sample(wall, logged.server_seconds, logged.queries)
    if response.status_code != 200 or "error" in response.json():
        sample.problems.append(f"demo payment answered {response.status_code}: {response.text}")
    return sample
