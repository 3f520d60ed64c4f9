"""Protocol knowledge of each channel, free of Odoo imports.

One module per wire protocol or channel; the Odoo models are a thin layer that
turns what these modules return into transaction states.
"""
