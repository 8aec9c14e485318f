"""Renewing this run's leases between steps, once a third of their time has passed."""

from __future__ import annotations

import threading
import time

from sqlbackfill.engines import EngineAdapter
from sqlbackfill.state.leases import LeaseStore


class Renewal:
    """`renew(adapter)` heartbeats the run's leases on that connection when a third of the TTL passed."""

    def __init__(self, leases: LeaseStore) -> None:
        self.leases = leases
        self._beat = time.monotonic()
        self._lock = threading.Lock()  # guards `_beat` only

    def renew(self, adapter: EngineAdapter) -> None:
        with self._lock:
            if time.monotonic() - self._beat < self.leases.ttl.total_seconds() / 3:
                return
            self._beat = time.monotonic()
        self.leases.heartbeat(adapter)
