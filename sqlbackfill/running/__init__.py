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
)
from sqlbackfill.running.runner import Runner, RunReport, RunRequest, new_run_id
from sqlbackfill.running.session import Selected, Session
from sqlbackfill.running.status import ModelStatus, PartitionView, collect_status, model_status

__all__ = [
    "Event",
    "Listener",
    "ModelFinished",
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
    "StepFinished",
    "StepRetried",
    "collect_status",
    "model_status",
    "new_run_id",
]
