"""Chilean RUT: normalization and validation, with python-stdnum (Odoo's own
dependency) doing the check-digit arithmetic. No Odoo imports."""

from stdnum.cl import rut as stdnum_rut
from stdnum.exceptions import ValidationError as StdnumError


def normalize(value):
    """Return the RUT as body + check digit (no dots, hyphen or spaces, upper-case K,
    no `CL` prefix), or None when it is not a valid RUT."""
    if not value:
        return None
    try:
        return stdnum_rut.validate(str(value))
    except StdnumError:
        return None


def with_hyphen(compact):
    """`760864285` → `76086428-5`, the form Odoo's Chilean localization stores."""
    return f"{compact[:-1]}-{compact[-1]}"
