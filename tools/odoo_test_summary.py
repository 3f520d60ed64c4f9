"""Turn an Odoo test log into the project's closing line `N passed, M failed`.

Reads the log Odoo wrote with --log-level=test and prints, last, exactly
`N passed, M failed`. Failed counts Odoo's failures and errors, every skipped
test (our suite skips nothing on purpose: a skip means a missing tool, such as
Chromium for a tour) and, when no test failed, errors Odoo logged outside any
test (a broken install, a crashed cron) or a non-zero exit status of Odoo.
Exits 1 when M > 0 or no test ran.
"""

import re
import sys

RESULT = re.compile(r"odoo\.tests\.result: (\d+) failed, (\d+) error\(s\) of (\d+) tests")
SKIPPED = re.compile(r" INFO \S+ odoo\.\S+: skipped (.*)$")
LOG_LEVEL = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ \d+ (ERROR|CRITICAL) ")
# Odoo's test server closes after 5 s the sockets headless Chrome opens in advance and
# never uses (odoo/service/server.py, RequestHandler.setup); http.server logs each one as
# an error. It is Odoo's intended behaviour, not a failure of ours.
CHROME_PRECONNECT = re.compile(r" werkzeug: .*Request timed out: TimeoutError\('timed out'\)")


def summarize(lines):
    failures = errors = ran = 0
    found = False
    skipped, logged_errors = [], []
    for line in lines:
        line = line.rstrip("\n")
        match = RESULT.search(line)
        if match:
            found = True
            failures, errors, ran = (int(group) for group in match.groups())
            continue
        match = SKIPPED.search(line)
        if match:
            skipped.append(match.group(1))
        elif LOG_LEVEL.match(line) and not CHROME_PRECONNECT.search(line):
            logged_errors.append(line)
    return found, failures, errors, ran, skipped, logged_errors


def main(path, odoo_status=0):
    with open(path, encoding="utf-8", errors="replace") as log:
        found, failures, errors, ran, skipped, logged_errors = summarize(log)
    failed = failures + errors + len(skipped)
    if odoo_status and failures + errors == 0:
        print(f"counted as 1 failed: Odoo exited with status {odoo_status}.")
        failed += 1
    if not found:
        print("Odoo printed no test result: the install or the run itself failed (see above).")
        failed += 1
    elif ran == 0:
        print("Odoo ran no test: check TEST_TAGS.")
    for reason in skipped:
        print(f"counted as failed, skipped: {reason}")
    if failures + errors == 0 and logged_errors:
        print(f"counted as 1 failed: {len(logged_errors)} error line(s) logged outside tests:")
        for line in logged_errors[:20]:
            print(f"  {line}")
        failed += 1
    passed = max(ran - failures - errors - len(skipped), 0)
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 and ran > 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 0))
