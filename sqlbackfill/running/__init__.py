"""Running: sessions, the runner (plan → compile → execute), events and status reports."""

from sqlbackfill.running.events import (
    Event,
    Listener,
    ModelFinished,
    ModelStarted,
    Note,
    PartitionsSkipped,
    StepFinished,
    StepRetried,
    StepStarted,
)
from sqlbackfill.running.hooks import Hooks, Step, StepResult
from sqlbackfill.running.report import ModelReport, RunReport
from sqlbackfill.running.request import RunRequest, new_run_id
from sqlbackfill.running.runner import Runner
from sqlbackfill.running.session import Selected, Session
from sqlbackfill.running.status import ModelStatus, PartitionView, collect_status, model_status

__all__ = [
    "Event",
    "Hooks",
    "Listener",
    "ModelFinished",
    "ModelReport",
    "ModelStarted",
    "ModelStatus",
    "Note",
    "PartitionView",
    "PartitionsSkipped",
    "RunReport",
    "RunRequest",
    "Runner",
    "Selected",
    "Session",
    "Step",
    "StepFinished",
    "StepResult",
    "StepRetried",
    "StepStarted",
    "collect_status",
    "model_status",
    "new_run_id",
]
