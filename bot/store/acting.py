"""Which acknowledged job is changing rows now, so each row remembers who moved it last.

A context variable rather than a parameter: the job runner sets it once around the work, and
every conditional UPDATE the use-case makes records it, without the use-cases knowing jobs.
"""

from __future__ import annotations

from contextvars import ContextVar

ACTING_JOB: ContextVar[int | None] = ContextVar("pixelbot_acting_job", default=None)
