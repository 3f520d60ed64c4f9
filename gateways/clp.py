"""Chilean pesos on the wire: whole numbers, no decimals. No Odoo imports."""


def clp_amount(amount):
    """Return `amount` as the integer number of pesos gateways expect."""
    whole = round(amount)
    if abs(amount - whole) > 1e-6 or whole <= 0:
        raise ValueError(f"a CLP amount must be a positive whole number, got {amount}")
    return int(whole)
