import socket

import requests

from odoo.tests import BaseCase, tagged

from odoo.addons.payment_latam.simulators.harness import (
    CONTROL_PATH,
    GatewaySimulator,
    Response,
    route,
)

CLIENT_TIMEOUT = 0.5  # seconds; every fault that must outlast it waits far longer


class LedgerGateway(GatewaySimulator):
    """A toy gateway: registers payments and answers their state."""

    name = "ledger"

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.payments = {}

    @route("POST", r"/payments")
    def register(self, request):
        payload = request.json()
        with self.state_lock:
            self.payments[payload["reference"]] = payload["amount"]
        return Response.json({"status": 0, "reference": payload["reference"]})

    @route("GET", r"/payments/(?P<reference>[\w-]+)")
    def consult(self, request, reference):
        if reference not in self.payments:
            return Response.json({"status": -1}, status=404)
        return Response.json({"status": 0, "amount": self.payments[reference]})


@tagged("post_install", "-at_install", "payment_latam", "simulators")
class TestSimulatorHarness(BaseCase):
    def setUp(self):
        super().setUp()
        self.gateway = LedgerGateway().start()
        self.addCleanup(self.gateway.stop)

    def register(self, reference, amount=1000):
        return requests.post(
            f"{self.gateway.url}/payments",
            json={"reference": reference, "amount": amount},
            timeout=CLIENT_TIMEOUT,
        )

    def test_serves_routes_on_loopback_and_records_requests(self):
        self.assertEqual(self.gateway.host, "127.0.0.1")
        self.assertGreater(self.gateway.port, 0)
        response = self.register("TX-1", 15990)
        self.assertEqual(response.json(), {"status": 0, "reference": "TX-1"})
        consulted = requests.get(f"{self.gateway.url}/payments/TX-1", timeout=CLIENT_TIMEOUT)
        self.assertEqual(consulted.json(), {"status": 0, "amount": 15990})
        recorded = self.gateway.requests_to(r"^/payments$", method="POST")
        self.assertEqual(len(recorded), 1)
        self.assertEqual(recorded[0].json(), {"reference": "TX-1", "amount": 15990})
        self.assertEqual(recorded[0].header("content-type"), "application/json")

    def test_unknown_route_is_a_404(self):
        response = requests.get(f"{self.gateway.url}/nowhere", timeout=CLIENT_TIMEOUT)
        self.assertEqual(response.status_code, 404)

    def test_delay_outlasts_the_client_timeout(self):
        self.gateway.inject_fault("delay", path=r"^/payments$", seconds=30)
        with self.assertRaises(requests.exceptions.ReadTimeout):
            self.register("TX-2")

    def test_delay_after_handling_leaves_the_outcome_unknown_but_real(self):
        self.gateway.inject_fault("delay", path=r"^/payments$", seconds=30, after_handling=True)
        with self.assertRaises(requests.exceptions.ReadTimeout):
            self.register("TX-3", 500)
        # The caller saw nothing, yet the gateway registered the payment.
        consulted = requests.get(f"{self.gateway.url}/payments/TX-3", timeout=CLIENT_TIMEOUT)
        self.assertEqual(consulted.json(), {"status": 0, "amount": 500})

    def test_status_fault_answers_the_error_without_handling(self):
        self.gateway.inject_fault("status", status=503, body='{"error_message": "busy"}')
        response = self.register("TX-4")
        self.assertEqual(response.status_code, 503)
        self.assertEqual(response.json(), {"error_message": "busy"})
        self.assertNotIn("TX-4", self.gateway.payments)

    def test_malformed_body_does_not_parse(self):
        self.gateway.inject_fault("malformed", after_handling=True)
        response = self.register("TX-5")
        self.assertEqual(response.status_code, 200)
        with self.assertRaises(ValueError):
            response.json()
        self.assertIn("TX-5", self.gateway.payments)

    def test_drop_closes_the_connection_without_an_answer(self):
        self.gateway.inject_fault("drop")
        with self.assertRaises(requests.exceptions.ConnectionError):
            self.register("TX-6")
        self.assertNotIn("TX-6", self.gateway.payments)

    def test_faults_hit_only_matching_paths_and_only_as_often_as_asked(self):
        self.gateway.inject_fault("status", path=r"^/payments$", times=2, status=500)
        self.assertEqual(
            requests.get(f"{self.gateway.url}/payments/none", timeout=CLIENT_TIMEOUT).status_code,
            404,
        )
        self.assertEqual(self.register("TX-7").status_code, 500)
        self.assertEqual(self.register("TX-7").status_code, 500)
        self.assertEqual(self.register("TX-7").status_code, 200)

    def test_fault_until_cleared(self):
        self.gateway.inject_fault("status", times=0, status=502)
        for _attempt in range(3):
            self.assertEqual(self.register("TX-8").status_code, 502)
        self.gateway.clear_faults()
        self.assertEqual(self.register("TX-8").status_code, 200)

    def test_unknown_fault_kind_is_refused(self):
        with self.assertRaises(ValueError):
            self.gateway.inject_fault("meteor")

    def test_control_endpoint_sets_and_clears_faults_over_http(self):
        control = f"{self.gateway.url}{CONTROL_PATH}/faults"
        refused = requests.post(control, json={"kind": "meteor"}, timeout=CLIENT_TIMEOUT)
        self.assertEqual(refused.status_code, 400)
        accepted = requests.post(
            control, json={"kind": "status", "status": 504, "times": 0}, timeout=CLIENT_TIMEOUT
        )
        self.assertEqual(accepted.status_code, 200)
        self.assertEqual(self.register("TX-9").status_code, 504)
        requests.delete(control, timeout=CLIENT_TIMEOUT)
        self.assertEqual(self.register("TX-9").status_code, 200)
        log = requests.get(f"{self.gateway.url}{CONTROL_PATH}/requests", timeout=CLIENT_TIMEOUT)
        self.assertEqual([entry["path"] for entry in log.json()], ["/payments", "/payments"])

    def test_clock_moves_only_when_told(self):
        before = self.gateway.clock.now()
        self.gateway.clock.advance(180)
        self.assertGreaterEqual(self.gateway.clock.now() - before, 180)

    def test_stop_closes_the_port_even_with_a_request_in_a_delay(self):
        self.gateway.inject_fault("delay", seconds=600)
        with self.assertRaises(requests.exceptions.ReadTimeout):
            self.register("TX-10")
        port = self.gateway.port
        self.gateway.stop()
        self.assertFalse(self.gateway.running)
        with (
            self.assertRaises(ConnectionRefusedError),
            socket.create_connection(("127.0.0.1", port), timeout=CLIENT_TIMEOUT),
        ):
            pass
        self.gateway.stop()  # stopping twice is harmless
