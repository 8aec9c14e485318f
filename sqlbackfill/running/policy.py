"""How a run reacts to failures: retries with backoff for transient errors, bisection, fail-fast."""

from __future__ import annotations

import random
from dataclasses import dataclass

DEFAULT_RETRIES = 3


@dataclass(frozen=True)
class FailurePolicy:
    """`--retries N` (transient errors only: lost connections, lock conflicts, serialization failures) and
    `--fail-fast` (stop at the first failed partition instead of going on and bisecting ranged steps)."""

    retries: int = DEFAULT_RETRIES
    fail_fast: bool = False
    base_delay: float = 0.5
    max_delay: float = 20.0

    def delay(self, attempt: int) -> float:
        """Seconds before retry number `attempt` (1-based): exponential backoff with full jitter."""
        ceiling = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        return random.uniform(ceiling / 2, ceiling)
