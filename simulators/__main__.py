"""Serve the gateway simulators for the demo: `python -m simulators` from the repo root."""

import argparse
import logging
import signal
import threading

from . import registry

_logger = logging.getLogger("simulators")


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s simulators: %(message)s")

    running = []
    for name in registry.SIMULATORS:
        simulator = registry.load(name)(host=args.host, port=registry.DEMO_PORTS[name]).start()
        running.append(simulator)
        _logger.info("%s simulator on %s", name, simulator.url)
    if not running:
        _logger.info("no gateway simulator is registered yet")

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    for simulator in running:
        simulator.stop()


if __name__ == "__main__":
    main()
