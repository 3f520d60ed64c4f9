"""Chilean RUT: normalization, check digit, masking. No Odoo imports."""

import re

_RUT = re.compile(r"^(\d{1,8})([\dK])$")


def normalize(value):
    """Return the RUT as body + check digit (no dots, hyphen or spaces, upper-case K),
    or None when it is not a valid RUT."""
    if not value:
        return None
    compact = re.sub(r"[\s.\-]", "", str(value)).upper()
    if compact.startswith("CL"):  # a VAT number as Odoo stores it for Chile
        compact = compact[2:]
    match = _RUT.match(compact)
    if not match or check_digit(match.group(1)) != match.group(2):
        return None
    return compact.lstrip("0") or None


def check_digit(body):
    """The modulo-11 check digit of a RUT body."""
    total, factor = 0, 2
    for digit in reversed(body):
        total += int(digit) * factor
        factor = 2 if factor == 7 else factor + 1
    remainder = 11 - total % 11
    return {11: "0", 10: "K"}.get(remainder, str(remainder))


def mask(value):
    """A RUT as it may appear in a log: its last three characters only."""
    text = str(value or "")
    if len(text) <= 3:
        return "*" * len(text)
    return "*" * (len(text) - 3) + text[-3:]
