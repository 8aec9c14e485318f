"""What a run did, per model and in all: the counts the CLI summarises and `sqlbackfill.api.run` returns."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlbackfill.planning import ModelPlan


@dataclass
class ModelReport:
    """One model's share of a run. `partitions` were planned in `steps`; of those, `materialized`
    committed (with `rows` in all), `failed` failed, `skipped` were not run (upstream failed or held,
    --fail-fast); `held` were left to another live run and `waiting` wait on upstream partitions that
    are not materialized (neither is planned). `seconds` is wall time, from first step to last."""

    model: str
    mode: str
    partitions: int = 0
    steps: int = 0
    materialized: int = 0
    failed: int = 0
    skipped: int = 0
    held: int = 0
    waiting: int = 0
    rows: int = 0
    seconds: float = 0.0

    @property
    def exit_code(self) -> int:
        """The CLI's exit code were this the only model (see `RunReport.exit_code`)."""
        if self.failed or self.skipped or self.waiting:
            return 1
        return 3 if self.held else 0


@dataclass
class RunReport:
    """What a run did: its id, its plans, and each model's report (in run order)."""

    run_id: str
    plans: list[ModelPlan]
    models: dict[str, ModelReport] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for plan in self.plans:
            self.models.setdefault(
                plan.model.name,
                ModelReport(
                    plan.model.name,
                    str(plan.mode),
                    plan.partitions,
                    len(plan.steps),
                    waiting=plan.waiting_partitions,
                ),
            )

    def of(self, model: str) -> ModelReport:
        """The report of one model."""
        return self.models[model]

    @property
    def succeeded(self) -> int:
        """Partitions materialized in this run, over every model."""
        return sum(m.materialized for m in self.models.values())

    @property
    def failed(self) -> int:
        """Partitions that failed."""
        return sum(m.failed for m in self.models.values())

    @property
    def skipped(self) -> int:
        """Partitions not run because upstream partitions failed or are held, or --fail-fast stopped."""
        return sum(m.skipped for m in self.models.values())

    @property
    def held(self) -> int:
        """Partitions left to another live run (its lease)."""
        return sum(m.held for m in self.models.values())

    @property
    def waiting(self) -> int:
        """Partitions not run: upstream partitions they read are not materialized."""
        return sum(m.waiting for m in self.models.values())

    @property
    def rows(self) -> int:
        """Rows written in all."""
        return sum(m.rows for m in self.models.values())

    @property
    def exit_code(self) -> int:
        """0 all done; 1 a partition failed, was skipped because its upstream failed, or waits on upstream
        partitions that are not materialized; 3 none of those, but some were left to another run."""
        if self.failed or self.skipped or self.waiting:
            return 1
        return 3 if self.held else 0
