"""URLs of gateway endpoints, shared by the channels' clients. No Odoo imports."""


def join_url(base, path):
    """`base` + `path` with exactly one slash between them, keeping any path prefix of
    `base` (e.g. `…/sandbox`): admins paste hosts with or without a trailing slash."""
    return f"{(base or '').rstrip('/')}/{(path or '').lstrip('/')}"
