from . import unicomer_cashier
