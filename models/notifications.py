"""The toast a button answers with (Odoo's `display_notification` client action)."""

CLOSE_DIALOG = {"type": "ir.actions.act_window_close"}
RELOAD = {"type": "ir.actions.client", "tag": "soft_reload"}


def notification(message, kind, then):
    """`kind` is success, info, warning or danger; warnings and dangers stay until read."""
    return {
        "type": "ir.actions.client",
        "tag": "display_notification",
        "params": {
            "message": message,
            "type": kind,
            "sticky": kind in ("warning", "danger"),
            "next": then,
        },
    }
