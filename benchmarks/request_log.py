"""Read Odoo's own per-request cost from its werkzeug log lines.

Odoo 18 counts every SQL query a request runs (odoo/sql_db.py) and appends, to
the request's werkzeug line, `query_count query_time other_time` (odoo/netsvc.py,
PerfFilter), e.g.:

    ... werkzeug: 127.0.0.1 - - [...] "GET /payment/webpay/return?token_ws=... HTTP/1.1" 303 -
    25 0.011 0.032   (on the same line)

The line is written when the response's status line is sent, so it is in the
file by the time the client has its answer.
"""

import re
import time
from dataclasses import dataclass

_LINE = re.compile(
    r" werkzeug: \S+ - - \[[^\]]*\] "
    r'"(?P<method>[A-Z]+) (?P<target>\S+) [^"]*" (?P<status>\d{3}) \S+ '
    r"(?P<queries>\d+) (?P<query_time>[\d.]+) (?P<other_time>[\d.]+)"
)


@dataclass(frozen=True)
class LoggedRequest:
    method: str
    target: str  # path and query string
    status: int
    queries: int
    query_seconds: float
    other_seconds: float

    @property
    def server_seconds(self):
        return self.query_seconds + self.other_seconds


def parse_line(line):
    match = _LINE.search(line)
    if not match:
        return None
    return LoggedRequest(
        method=match["method"],
        target=match["target"],
        status=int(match["status"]),
        queries=int(match["queries"]),
        query_seconds=float(match["query_time"]),
        other_seconds=float(match["other_time"]),
    )


class RequestLog:
    """Follows an Odoo log file and hands out the request lines written since last time."""

    def __init__(self, path):
        self.path = path
        self._offset = 0
        self._partial = b""

    def skip_to_end(self):
        self.read_new()

    def read_new(self):
        with open(self.path, "rb") as log:
            log.seek(self._offset)
            data = log.read()
        self._offset += len(data)
        lines = (self._partial + data).split(b"\n")
        self._partial = lines.pop()
        parsed = (parse_line(line.decode("utf-8", "replace")) for line in lines)
        return [entry for entry in parsed if entry]

    def wait_for(self, method, target_prefix, timeout=5.0):
        """Return the one request line for `method target_prefix...` written since last time."""
        deadline = time.monotonic() + timeout
        seen = []
        while True:
            seen += self.read_new()
            matching = [
                e for e in seen if e.method == method and e.target.startswith(target_prefix)
            ]
            if len(matching) > 1:
                raise RuntimeError(f"{len(matching)} log lines for one {method} {target_prefix}")
            if matching:
                return matching[0]
            if time.monotonic() > deadline:
                raise RuntimeError(f"no Odoo log line for {method} {target_prefix}")
            time.sleep(0.02)
