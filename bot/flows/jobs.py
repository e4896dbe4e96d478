"""Acknowledged work, kept in the database: written before the ack, claimed with a lease,
resumed by any replica when the process that held it died.

A job only records what was asked (who, what, where to answer); the use-cases it runs keep
their own state in the share-request rows, whose claims make every step safe to resume.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any

from pydantic import SecretStr
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.flows.context import Context
from bot.flows.states import IN_FLIGHT
from bot.store.acting import ACTING_JOB
from bot.store.models import Job, ShareRequest

# A job claimed this many times without finishing is given up, and its user told so.
MAX_ATTEMPTS = 3
_BUSY = frozenset(s.value for s in IN_FLIGHT)


class JobStatus(StrEnum):
    """Where a job stands; stored as this string."""

    QUEUED = "queued"  # written before the ack; nobody runs it yet
    RUNNING = "running"  # claimed by a worker until `lease_until`
    DONE = "done"
    GIVEN_UP = "given_up"  # claimed MAX_ATTEMPTS times and never finished


@dataclass(frozen=True)
class NewJob:
    """What the ack path writes: enough for any replica to do the work later."""

    key: str  # from Slack's payload (its trigger_id): one job per interaction
    surface: str
    name: str
    actor: str
    payload: dict[str, Any]
    reply_url: SecretStr | None = None


@dataclass(frozen=True)
class ClaimedJob:
    """A job this worker holds; `attempt` 1 is the first run, more is a resumption."""

    id: int
    surface: str
    name: str
    actor: str
    payload: dict[str, Any]
    reply_url: SecretStr | None
    reply_uses: int
    attempt: int
    age_seconds: float


def _row(ctx: Context, job: NewJob) -> dict[str, Any]:
    return {
        "key": job.key[:160],
        "surface": job.surface,
        "name": job.name[:40],
        "actor": job.actor,
        "payload": job.payload,
        "reply_ciphertext": None if job.reply_url is None else ctx.box.seal(job.reply_url),
        "reply_uses": 0,
        "status": JobStatus.QUEUED.value,
        "attempts": 0,
        "created_at": ctx.clock(),
    }


async def enqueue(ctx: Context, job: NewJob) -> int | None:
    """Write one job and commit; its id, or None when Slack delivered this one already."""
    [job_id] = await _insert(ctx, [_row(ctx, job)])
    return job_id


async def _insert(ctx: Context, rows: list[dict[str, Any]]) -> list[int | None]:
    """One INSERT and one COMMIT for all `rows`; each one's id, None for a key already
    written (by an earlier delivery, or earlier in `rows`)."""
    async with ctx.sessions.begin() as session:
        dialect = (await session.connection()).dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        written = await session.execute(
            insert(Job)
            .values(rows)
            .on_conflict_do_nothing(index_elements=[Job.key])
            .returning(Job.id, Job.key)
        )
        ids = {key: job_id for job_id, key in written.all()}
    return [ids.pop(row["key"], None) for row in rows]


class Inbox:
    """Group commit for the ack path: the jobs that arrive while one INSERT is being
    committed are written together by the next, in one statement and one COMMIT.

    Each caller still waits for its own row's commit (acknowledged means durable); under
    load, many acks share one round trip instead of queueing for connections and, on
    SQLite, for the write lock. A lone job is written at once: nothing waits for company.
    """

    BATCH = 200

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx
        self._waiting: list[tuple[dict[str, Any], asyncio.Future[int | None]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def put(self, job: NewJob) -> int | None:
        """Write `job`; its id once committed, or None when its key was written already."""
        future: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()
        self._waiting.append((_row(self._ctx, job), future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write())
        return await future

    async def _write(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting[: self.BATCH], self._waiting[self.BATCH :]
            try:
                ids = await _insert(self._ctx, [row for row, _ in batch])
            except Exception as exc:  # every waiting ack learns it was not recorded
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, future), job_id in zip(batch, ids, strict=True):
                if not future.done():  # its ack may have been cancelled meanwhile
                    future.set_result(job_id)


def _claimable(now: Any, job_id: int | None = None) -> Any:
    free = or_(
        Job.status == JobStatus.QUEUED.value,
        (Job.status == JobStatus.RUNNING.value) & (Job.lease_until < now),
    )
    return free if job_id is None else free & (Job.id == job_id)


async def claim(ctx: Context, job_id: int, worker: str, lease: float) -> ClaimedJob | None:
    """Take the job for `lease` seconds; None when another worker has it or it is finished."""
    now = ctx.clock()
    async with ctx.sessions.begin() as session:
        result = await session.execute(
            update(Job)
            .where(_claimable(now, job_id))
            .values(
                status=JobStatus.RUNNING.value,
                lease_owner=worker,
                lease_until=now + timedelta(seconds=lease),
                attempts=Job.attempts + 1,
            )
            .execution_options(synchronize_session=False)
        )
        if getattr(result, "rowcount", 0) != 1:
            return None
        row = await session.scalar(
            select(Job).where(Job.id == job_id).execution_options(populate_existing=True)
        )
        assert row is not None
        url = None if row.reply_ciphertext is None else ctx.box.open(row.reply_ciphertext)
        return ClaimedJob(
            row.id,
            row.surface,
            row.name,
            row.actor,
            dict(row.payload),
            url,
            row.reply_uses,
            row.attempts,
            (now - row.created_at).total_seconds(),
        )


async def orphans(ctx: Context, older_than: float, limit: int = 20) -> list[int]:
    """Jobs nobody runs: queued for longer than `older_than` seconds (the process that
    acked died before starting them), or running with a lease that ran out."""
    now = ctx.clock()
    async with ctx.sessions() as session:
        found = await session.scalars(
            select(Job.id)
            .where(
                _claimable(now),
                or_(
                    Job.status == JobStatus.RUNNING.value,
                    Job.created_at < now - timedelta(seconds=older_than),
                ),
            )
            .order_by(Job.id)
            .limit(limit)
        )
        return list(found.all())


async def renew(ctx: Context, job_id: int, worker: str, lease: float) -> bool:
    """Extend the lease of a job this worker still holds."""
    async with ctx.sessions.begin() as session:
        result = await session.execute(
            update(Job)
            .where(Job.id == job_id, Job.lease_owner == worker)
            .values(lease_until=ctx.clock() + timedelta(seconds=lease))
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0) == 1)


async def let_go(ctx: Context, job_id: int, worker: str) -> None:
    """Give a job back at once (shutdown cut it short): the next sweep anywhere resumes it."""
    async with ctx.sessions.begin() as session:
        await session.execute(
            update(Job)
            .where(
                Job.id == job_id, Job.lease_owner == worker, Job.status == JobStatus.RUNNING.value
            )
            .values(lease_until=ctx.clock())
            .execution_options(synchronize_session=False)
        )


async def count_reply(ctx: Context, job_id: int) -> int:
    """Count one use of the job's response_url (Slack allows five); the new count."""
    async with ctx.sessions.begin() as session:
        await session.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(reply_uses=Job.reply_uses + 1)
            .execution_options(synchronize_session=False)
        )
        uses = await session.scalar(select(Job.reply_uses).where(Job.id == job_id))
        return int(uses or 0)


async def finish(
    ctx: Context,
    job: ClaimedJob,
    worker: str,
    *,
    told: bool,
    shown_busy: Mapping[int, str] | None = None,
) -> list[int]:
    """Mark the job done and hand the rows it changed to the Slack sync; their ids.

    When its actor heard the end and is the requester, the requester's DM is not needed.
    When they heard only that a change is under way (`shown_busy`, or a row still in flight
    now) and are not the requester, they become its watcher: the sync tells them the end."""
    return await _close(ctx, job, worker, JobStatus.DONE, told, shown_busy or {})


async def give_up(ctx: Context, job: ClaimedJob, worker: str, *, told: bool) -> list[int]:
    """Mark the job as never finished (the user was told so, when `told`)."""
    return await _close(ctx, job, worker, JobStatus.GIVEN_UP, told, {})


async def _close(
    ctx: Context,
    job: ClaimedJob,
    worker: str,
    status: JobStatus,
    told: bool,
    shown_busy: Mapping[int, str],
) -> list[int]:
    now = ctx.clock()
    async with ctx.sessions.begin() as session:
        await session.execute(
            update(Job)
            .where(Job.id == job.id, Job.lease_owner == worker)
            # The response_url is a capability no longer needed: not kept once finished.
            .values(
                status=status.value,
                finished_at=now,
                lease_until=None,
                told=told,
                reply_ciphertext=None,
            )
            .execution_options(synchronize_session=False)
        )
        mine = ShareRequest.changed_by_job == job.id
        if told:
            await session.execute(
                update(ShareRequest)
                .where(mine, ShareRequest.requester_slack_id == job.actor)
                .values(requester_status=ShareRequest.status)
                .execution_options(synchronize_session=False)
            )
        await _watch(session, job, shown_busy)
        await session.execute(
            update(ShareRequest)
            .where(mine)
            # A new version: a sync holding the row since before the job ended must not
            # clear this mark with its older one (the requester would never be told).
            .values(
                version=ShareRequest.version + 1,
                slack_due_at=func.coalesce(ShareRequest.slack_due_at, now),
            )
            .execution_options(synchronize_session=False)
        )
        changed = await session.scalars(select(ShareRequest.id).where(mine))
        return list(changed.all())


async def _watch(session: AsyncSession, job: ClaimedJob, shown_busy: Mapping[int, str]) -> None:
    """The job's actor watches each row of theirs that is, or was shown them as, in flight
    (`shown_busy`: row -> the claim it showed), unless they are its requester (whose DM
    tells them anyway)."""
    rows = await session.execute(
        select(ShareRequest.id, ShareRequest.status).where(
            ShareRequest.changed_by_job == job.id, ShareRequest.requester_slack_id != job.actor
        )
    )
    for row_id, status in rows.all():
        claim = status if status in _BUSY else shown_busy.get(row_id)
        if claim is None:
            continue
        await session.execute(
            update(ShareRequest)
            .where(ShareRequest.id == row_id)
            .values(watcher_slack_id=job.actor, watched_from=claim)
            .execution_options(synchronize_session=False)
        )


async def prune(ctx: Context, older_than: timedelta) -> int:
    """Forget finished jobs older than `older_than` (the audit log keeps what they did)."""
    async with ctx.sessions.begin() as session:
        result = await session.execute(
            delete(Job).where(
                Job.status.in_([JobStatus.DONE.value, JobStatus.GIVEN_UP.value]),
                Job.finished_at < ctx.clock() - older_than,
            )
        )
        return int(getattr(result, "rowcount", 0) or 0)


async def changed_rows(ctx: Context, job_id: int) -> list[int]:
    """The share requests the job changed (on a resumption: what its first run got to)."""
    async with ctx.sessions() as session:
        found = await session.scalars(
            select(ShareRequest.id)
            .where(ShareRequest.changed_by_job == job_id)
            .order_by(ShareRequest.id)
        )
        return list(found.all())


async def still_running(ctx: Context, job_ids: set[int]) -> set[int]:
    """Which of these jobs are not finished yet."""
    if not job_ids:
        return set()
    async with ctx.sessions() as session:
        found = await session.scalars(
            select(Job.id).where(
                Job.id.in_(job_ids),
                Job.status.in_([JobStatus.QUEUED.value, JobStatus.RUNNING.value]),
            )
        )
        return set(found.all())


@contextlib.contextmanager
def acting(job_id: int) -> Iterator[None]:
    """Every request changed inside is marked as changed by this job (see `finish`)."""
    token = ACTING_JOB.set(job_id)
    try:
        yield
    finally:
        ACTING_JOB.reset(token)


async def awaited(ctx: Context, request_ids: Sequence[int]) -> set[int]:
    """Those of these requests whose last job has not finished: that job, resumed, will
    tell its user where they stand, so nobody else needs to."""
    if not request_ids:
        return set()
    async with ctx.sessions() as session:
        found = await session.scalars(
            select(ShareRequest.id)
            .join(Job, Job.id == ShareRequest.changed_by_job)
            .where(
                ShareRequest.id.in_(request_ids),
                Job.status.in_([JobStatus.QUEUED.value, JobStatus.RUNNING.value]),
            )
        )
        return set(found.all())
