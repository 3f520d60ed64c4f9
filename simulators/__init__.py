"""Loopback counterparts of the gateways (see harness.py). No Odoo imports."""
