"""Faults on demand during a simulated trading day: store links cut and restored, links slowed
down, store nodes and central killed with SIGKILL and started again on the same data.

`Faults.run` plays them at random moments (seeded) until the day's trading stops; `heal`
restores every link and restarts whatever is down, so that the day ends on a whole chain.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from dataclasses import dataclass, field

from recommerce.sim.chain import Chain
from recommerce.sim.processes import ManagedProcess

SLOW_LINK_S = 0.3  # added to each direction of a slowed link
DOWN_S = (0.2, 1.5)  # how long a killed node stays down
CUT_S = (0.5, 4.0)  # how long a link stays cut
GAP_S = (0.5, 3.0)  # between two faults
RESTART_ATTEMPTS = 3


@dataclass
class Faults:
    chain: Chain
    rng: random.Random
    injected: Counter[str] = field(default_factory=Counter)

    def run(self, stop: threading.Event) -> None:
        """Inject faults until `stop` is set, then heal the chain."""
        try:
            while not stop.wait(self.rng.uniform(*GAP_S)):
                self._one(stop)
        finally:
            self.heal()

    def _one(self, stop: threading.Event) -> None:
        kind = self.rng.choices(
            ["cut link", "slow link", "kill store", "kill central"], weights=[5, 2, 2, 1]
        )[0]
        store = self.rng.choice(self.chain.stores)
        self.injected[kind] += 1
        if kind == "cut link":
            store.link.cut()
            stop.wait(self.rng.uniform(*CUT_S))
            store.link.restore()
        elif kind == "slow link":
            store.link.delay(SLOW_LINK_S)
            stop.wait(self.rng.uniform(*CUT_S))
            store.link.delay(0)
        elif kind == "kill store":
            store.process.kill()
            stop.wait(self.rng.uniform(*DOWN_S))
            _restart(store.process)
            store.forget_sessions()
        else:
            assert self.chain.central is not None
            self.chain.central.kill()
            stop.wait(self.rng.uniform(*DOWN_S))
            _restart(self.chain.central)

    def heal(self) -> None:
        """Every link restored and fast, every node running."""
        central = self.chain.central
        if central is not None and not central.running:
            _restart(central)
        for store in self.chain.stores:
            store.link.restore()
            store.link.delay(0)
            if not store.process.running:
                _restart(store.process)
                store.forget_sessions()


def _restart(process: ManagedProcess) -> None:
    """Start a killed node again; a start that does not answer in time (a busy machine) is
    killed and tried again, as an operator would."""
    for attempt in range(1, RESTART_ATTEMPTS + 1):
        try:
            process.start()
            return
        except RuntimeError:
            if attempt == RESTART_ATTEMPTS:
                raise
