import threading

from odoo import SUPERUSER_ID, api
from odoo.modules.registry import DummyRLock, Registry
from odoo.service.model import retrying
from odoo.tests import BaseCase, common


class ConcurrentCase(BaseCase):
    """Real concurrent database transactions on committed data.

    Test cursors would serialize the requests; here each notification runs in
    its own cursor and is retried by Odoo's own `retrying`, as the HTTP layer
    does, so only the row lock stands between them and a double effect.
    """

    def setUp(self):
        super().setUp()
        # The test runner holds the registry lock for the whole run; threads
        # opening environments would wait for it forever. Odoo's own test mode
        # swaps in a dummy lock the same way, for the duration of a test.
        if Registry._saved_lock is None:
            saved_lock, Registry._lock = Registry._lock, DummyRLock()
            self.addCleanup(setattr, Registry, "_lock", saved_lock)
        self.registry = Registry(common.get_db_name())

    def _env(self, cr):
        return api.Environment(cr, SUPERUSER_ID, {})

    def _configure_committed(self, record, values):
        """Write `values` on `record` for real, and put things back after the test:
        the record's previous values, and the payment methods' active flags, which
        Odoo changes along with a provider's state."""
        saved = record.read(list(values))[0]
        saved.pop("id")
        methods = record.env["payment.method"].with_context(active_test=False).search([])
        active = {method.id: method.active for method in methods}
        self.addCleanup(self._restore, record._name, record.id, saved, active)
        record.write(values)

    def _restore(self, model, record_id, saved, active):
        with self.registry.cursor() as cr:
            env = self._env(cr)
            env[model].browse(record_id).write(saved)
            env.flush_all()
            # As the database had them: Odoo refuses to activate a method of a
            # disabled provider through the ORM, which a fresh install does.
            for method_id, was_active in active.items():
                cr.execute(
                    "UPDATE payment_method SET active = %s WHERE id = %s", [was_active, method_id]
                )
            env.invalidate_all()

    def _in_parallel(self, handlers):
        """Run every `handler(env)` at once, each in its own retried transaction."""
        barrier = threading.Barrier(len(handlers))
        errors = []

        def run(handler):
            try:
                with self.registry.cursor() as cr:
                    env = self._env(cr)
                    barrier.wait(timeout=30)
                    retrying(lambda: handler(env), env)
            except Exception as error:  # reported by the assertion below
                errors.append(error)

        threads = [threading.Thread(target=run, args=(handler,)) for handler in handlers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        self.assertFalse([thread for thread in threads if thread.is_alive()], "stuck requests")
        self.assertEqual(errors, [])
