"""The crons' shared loop: settle open payments one at a time, with the gateway.

Each payment is locked without waiting (a return or notification handling it
right now wins), settled inside a savepoint (one bad payment must not stop the
others) and committed on its own, as Odoo's post-processing cron does: a row
lock is never held across the gateway calls of the whole run.
"""

import logging

_logger = logging.getLogger(__name__)


def _is_open(tx):
    return tx.state in ("draft", "pending")


def sweep(txs, settle, label, is_open=_is_open, lock_target=None):
    """Call `settle(tx)` for each of `txs` still open; return the ones it closed."""
    settled = txs.browse()
    env = txs.env
    for tx in txs:
        target = lock_target(tx) if lock_target else tx
        if not target._latam_lock(wait=False):
            continue
        tx.invalidate_recordset()
        if is_open(tx):
            try:
                with env.cr.savepoint():
                    settle(tx)
            except Exception:
                _logger.exception("%s: checking %s failed", label, tx.reference)
            else:
                if not is_open(tx):
                    settled |= tx
        _commit(env)
    if settled:
        env.ref("payment.cron_post_process_payment_tx")._trigger()
    return settled


def _commit(env):
    # Tests run in one transaction that must stay open; a cron commits per payment.
    if not env.registry.in_test_mode():
        env.cr.commit()
