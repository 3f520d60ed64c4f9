"""Loopback HTTP servers that play a gateway's part, for tests and the demo.

A simulator is a real HTTP server on 127.0.0.1 speaking one gateway's
documented protocol. Subclasses declare routes with `@route`; the harness
records every request and can inject the faults a real network produces:

- ``delay``: answer only after ``seconds`` (longer than the client timeout);
- ``status``: answer an HTTP error (``status``, ``body``) instead of handling;
- ``malformed``: answer 200 with a body that does not parse;
- ``drop``: close the connection without any answer.

With ``after_handling=True`` the gateway first handles the request (its state
changes: the payment *was* registered) and only then the answer is delayed,
broken or lost: the case where the caller cannot know the outcome.

Faults are set from Python (`inject_fault`) or, for a simulator running in
another process, over HTTP on the control path (see `CONTROL_PATH`).

This module imports nothing from Odoo nor from the addon: it stands for the
other side of the wire.
"""

import contextlib
import json
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

CONTROL_PATH = "/__simulator__"
FAULT_KINDS = ("delay", "status", "malformed", "drop")
DEFAULT_MALFORMED_BODY = b'{"status": 0, "data": {"truncated'


@dataclass
class Request:
    """One request as the simulator received it."""

    method: str
    path: str
    query: dict
    headers: dict
    body: bytes
    client_address: str

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def form(self):
        return {key: values[-1] for key, values in parse_qs(self.body.decode("utf-8")).items()}

    def header(self, name, default=None):
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return value
        return default


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict = field(default_factory=dict)

    @classmethod
    def json(cls, payload, status=200, headers=None):
        return cls(
            status,
            json.dumps(payload).encode("utf-8"),
            {"Content-Type": "application/json", **(headers or {})},
        )

    @classmethod
    def text(cls, text, status=200, content_type="text/plain; charset=utf-8"):
        return cls(status, text.encode("utf-8"), {"Content-Type": content_type})


@dataclass
class Fault:
    kind: str
    path: str = None  # regular expression searched in the request path; None = any
    times: int = 1  # how many requests it hits; 0 = until cleared
    seconds: float = 0.0
    status: int = 500
    body: bytes = None
    after_handling: bool = False
    hits: int = 0

    def __post_init__(self):
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {FAULT_KINDS}")
        if isinstance(self.body, str):
            self.body = self.body.encode("utf-8")

    def matches(self, path):
        return self.path is None or re.search(self.path, path) is not None


class Clock:
    """Time as the simulated gateway sees it; tests move it forward."""

    def __init__(self):
        self._offset = 0.0
        self._lock = threading.Lock()

    def now(self):
        with self._lock:
            return time.time() + self._offset

    def advance(self, seconds):
        with self._lock:
            self._offset += seconds


def route(method, pattern):
    """Declare a handler for `method` requests whose path fully matches `pattern`."""

    def decorate(handler):
        handler.simulator_route = (method.upper(), re.compile(pattern))
        return handler

    return decorate


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # a handler sleeping in a delay fault must not hold up stop()
    allow_reuse_address = True


class GatewaySimulator:
    """Base class: a threaded HTTP server on loopback that dispatches to routes."""

    name = "gateway"

    def __init__(self, host="127.0.0.1", port=0):
        self.host = host
        self.port = port
        self.clock = Clock()
        self.state_lock = threading.RLock()  # for subclasses' own state
        self._lock = threading.Lock()
        self._faults = []
        self._requests = []
        self._stopping = threading.Event()
        self._server = None
        self._thread = None
        self._routes = [
            (getattr(self, attr).simulator_route, getattr(self, attr))
            for attr in dir(type(self))
            if hasattr(getattr(type(self), attr, None), "simulator_route")
        ]

    # --- lifecycle ---

    def start(self):
        if self._server:
            return self
        self._stopping.clear()
        self._server = _Server((self.host, self.port), self._make_handler())
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"simulator-{self.name}-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self):
        if not self._server:
            return
        self._stopping.set()  # wakes handlers sleeping in a delay fault
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
        self._server = self._thread = None

    @property
    def running(self):
        return self._server is not None

    @property
    def url(self):
        return f"http://{self.host}:{self.port}"

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    # --- faults and request log ---

    def inject_fault(self, kind, path=None, times=1, **options):
        fault = Fault(kind, path=path, times=times, **options)
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear_faults(self):
        with self._lock:
            self._faults.clear()

    @property
    def requests(self):
        with self._lock:
            return list(self._requests)

    def requests_to(self, pattern, method=None):
        return [
            request
            for request in self.requests
            if re.search(pattern, request.path) and (method is None or request.method == method)
        ]

    def reset_log(self):
        with self._lock:
            self._requests.clear()

    def _take_fault(self, path):
        with self._lock:
            for fault in self._faults:
                if fault.matches(path):
                    fault.hits += 1
                    if fault.times and fault.hits >= fault.times:
                        self._faults.remove(fault)
                    return fault
        return None

    # --- dispatch ---

    def handle(self, request):
        """Answer a request through the declared routes; 404 when none matches."""
        for (method, pattern), handler in self._routes:
            match = pattern.fullmatch(request.path)
            if match and method == request.method:
                return handler(request, **match.groupdict())
        return self.not_found(request)

    def not_found(self, request):
        return Response.json({"error_message": f"no route for {request.path}"}, status=404)

    def _control(self, request):
        """The control endpoint: set or clear faults, read the request log."""
        if request.method == "POST" and request.path == f"{CONTROL_PATH}/faults":
            options = request.json()
            try:
                self.inject_fault(**options)
            except (TypeError, ValueError) as error:
                return Response.json({"error": str(error)}, status=400)
            return Response.json({"ok": True})
        if request.method == "DELETE" and request.path == f"{CONTROL_PATH}/faults":
            self.clear_faults()
            return Response.json({"ok": True})
        if request.method == "GET" and request.path == f"{CONTROL_PATH}/requests":
            return Response.json(
                [
                    {"method": r.method, "path": r.path, "body": r.body.decode("utf-8", "replace")}
                    for r in self.requests
                ]
            )
        if request.method == "POST" and request.path == f"{CONTROL_PATH}/clock":
            self.clock.advance(float(request.json().get("seconds", 0)))
            return Response.json({"now": self.clock.now()})
        return Response.json({"error": "unknown control request"}, status=404)

    def _respond(self, request):
        """Return the Response to send, or None to drop the connection."""
        if request.path.startswith(CONTROL_PATH):
            return self._control(request)
        with self._lock:
            self._requests.append(request)
        fault = self._take_fault(request.path)
        if fault is None:
            return self.handle(request)
        response = self.handle(request) if fault.after_handling else None
        if fault.kind == "delay":
            self._stopping.wait(fault.seconds)
            return response if response is not None else self.handle(request)
        if fault.kind == "status":
            body = fault.body if fault.body is not None else b'{"error_message": "internal error"}'
            return Response(fault.status, body, {"Content-Type": "application/json"})
        if fault.kind == "malformed":
            content_type = (response.headers if response else {}).get(
                "Content-Type", "application/json"
            )
            body = fault.body if fault.body is not None else DEFAULT_MALFORMED_BODY
            return Response(200, body, {"Content-Type": content_type})
        return None  # drop

    def _make_handler(self):
        simulator = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format, *args):
                pass  # the request log is the record; stderr noise helps nobody

            def _serve(self):
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                request = Request(
                    method=self.command,
                    path=parts.path,
                    query={k: v[-1] for k, v in parse_qs(parts.query).items()},
                    headers=dict(self.headers.items()),
                    body=self.rfile.read(length) if length else b"",
                    client_address=self.client_address[0],
                )
                try:
                    response = simulator._respond(request)
                except Exception as error:  # a simulator bug must show, not hang the client
                    response = Response.json({"error_message": f"simulator error: {error}"}, 500)
                if response is None:
                    self.close_connection = True
                    with contextlib.suppress(OSError):  # the client may be gone already
                        self.connection.shutdown(socket.SHUT_RDWR)
                    return
                self.send_response(response.status)
                for name, value in response.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(response.body)))
                self.end_headers()
                self.wfile.write(response.body)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

        return Handler
