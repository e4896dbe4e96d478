"""Acknowledged work: written to the database before the ack, run after it, resumed after a
crash by whichever replica finds it first.

A listener `accept`s a job (one INSERT), acks, and `start`s it in this process. The job is
claimed with a lease that a heartbeat keeps alive; if the process dies, the lease runs out
and the orphan sweep of any replica claims it again. A resumed job that had already changed
requests does not do the work twice: it tells its user where those requests stand now (the
share-request claims and crash recovery finish whatever was at Meta). One that never
finishes is given up after `jobs.MAX_ATTEMPTS` claims, and its user told so.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from pydantic import SecretStr
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient
from sqlalchemy.exc import SQLAlchemyError

from bot.flows import announcing, jobs
from bot.flows.context import Context
from bot.flows.jobs import ClaimedJob, NewJob
from bot.flows.leases import new_worker_id
from bot.flows.states import IN_FLIGHT
from bot.slack.background import Background
from bot.slack.errors import report
from bot.slack.sync import SlackSync
from bot.slack.work_blocks import gave_up_message, resumed_message

log = logging.getLogger(__name__)

# Slack's response_url takes five posts within 30 minutes; a little margin for clocks.
REPLY_URL_USES = 5
REPLY_URL_SECONDS = 29 * 60
ORPHAN_GRACE_SECONDS = 10.0  # a queued job this old was not started by the process that acked


class JobReply:
    """Answers a job's user: through the response_url while Slack still takes it (30 min,
    five uses, counted in the database), else by DM. `told` says whether anything arrived."""

    def __init__(self, ctx: Context, client: AsyncWebClient, job: ClaimedJob) -> None:
        self._ctx, self._client, self._job = ctx, client, job
        self._started = time.monotonic() - job.age_seconds
        self.told = False

    async def __call__(self, **kwargs: Any) -> None:
        if await self._by_url(kwargs):
            self.told = True
            return
        await self._client.chat_postMessage(
            channel=self._job.actor, text=kwargs.get("text", ""), blocks=kwargs.get("blocks")
        )
        self.told = True

    async def _by_url(self, kwargs: dict[str, Any]) -> bool:
        url = self._job.reply_url
        if url is None or time.monotonic() - self._started > REPLY_URL_SECONDS:
            return False
        # Counted before it is used: a crash in between wastes a use, never exceeds five.
        if await jobs.count_reply(self._ctx, self._job.id) > REPLY_URL_USES:
            return False
        try:
            answer = await AsyncWebhookClient(url.get_secret_value()).send_dict(kwargs)
        except Exception as exc:  # any failure: the DM carries the message
            # The error's text may quote the URL, a bearer capability: only its kind is logged.
            log.info(
                "response_url of job %s not usable (%s): replying by DM",
                self._job.id,
                type(exc).__name__,
            )
            return False
        if answer.status_code != 200:
            log.info(
                "response_url of job %s answered %s: replying by DM",
                self._job.id,
                answer.status_code,
            )
            return False
        return True


JobHandler = Callable[[ClaimedJob, JobReply, AsyncWebClient], Awaitable[None]]


class SlackWork:
    """Durable jobs and the Slack sync of one process."""

    def __init__(self, ctx: Context, background: Background) -> None:
        self._ctx, self._background = ctx, background
        self._inbox = jobs.Inbox(ctx)
        self._handlers: dict[tuple[str, str], JobHandler] = {}
        self._client: AsyncWebClient | None = None
        self._sync: SlackSync | None = None
        self._worker = new_worker_id()
        self.lease = 60.0
        self._slots: asyncio.Semaphore | None = None
        self._workers = 64
        self._mine: set[int] = set()  # jobs started here, running or waiting for a worker
        self._task: asyncio.Task[None] | None = None

    @property
    def workers(self) -> int:
        """How many jobs this process runs at once (PIXELBOT_JOB_WORKERS)."""
        return self._workers

    @workers.setter
    def workers(self, count: int) -> None:
        self._workers, self._slots = count, None

    def attach(self, client: AsyncWebClient) -> None:
        """Use the app's Web API client (built with the app)."""
        self._client = client
        self._sync = SlackSync(self._ctx, client)

    @property
    def sync(self) -> SlackSync:
        """The Slack sync (once attached)."""
        assert self._sync is not None, "SlackWork.attach was not called"
        return self._sync

    def on(self, surface: str, name: str, handler: JobHandler) -> None:
        """Run `handler` for jobs of this surface and name."""
        self._handlers[(surface, name)] = handler

    async def accept(
        self,
        surface: str,
        name: str,
        actor: str,
        payload: dict[str, Any],
        *,
        trigger: str | None,
        reply_url: str | None = None,
    ) -> int | None:
        """Write the job (before the ack); None when Slack sent this interaction already.

        Raises `NotRecorded` when the database cannot take it: the caller acks with that."""
        key = f"{surface}:{trigger}" if trigger else f"{surface}:none:{uuid.uuid4().hex}"
        url = SecretStr(reply_url) if reply_url else None
        try:
            return await self._inbox.put(NewJob(key, surface, name, actor, payload, url))
        except (SQLAlchemyError, OSError) as exc:
            log.error("job not recorded: %s", type(exc).__name__)
            raise NotRecorded() from None

    def start(self, job_id: int) -> None:
        """Run the job in this process as soon as a worker is free (the orphan sweep is the
        safety net)."""
        self._mine.add(job_id)
        if not self._background.spawn(self.run(job_id), None):
            self._mine.discard(job_id)  # never started: left queued for any replica's sweep

    async def run(self, job_id: int) -> None:
        """Claim and run one job once a worker slot is free; nothing if another worker
        holds it or it is finished. A job waiting for a slot is not claimed: if the process
        dies meanwhile, the orphan sweep of any replica starts it."""
        if self._slots is None:  # made on the loop that runs the jobs
            self._slots = asyncio.Semaphore(self._workers)
        try:
            async with self._slots:
                await self._run(job_id)
        finally:
            self._mine.discard(job_id)

    async def _run(self, job_id: int) -> None:
        client = self._client
        assert client is not None
        job = await jobs.claim(self._ctx, job_id, self._worker, self.lease)
        if job is None:
            return
        reply = JobReply(self._ctx, client, job)
        try:
            async with self._heartbeat(job):
                changed = await self._attempt(job, reply, client)
        except asyncio.CancelledError:
            # Shutdown cut it short: hand it over now rather than when the lease runs out.
            await asyncio.shield(self._let_go(job.id))
            raise
        if changed:
            await self.sync.deliver(changed)

    async def _let_go(self, job_id: int) -> None:
        try:
            await jobs.let_go(self._ctx, job_id, self._worker)
        except (SQLAlchemyError, OSError):  # its lease still runs out: resumed a bit later
            log.warning("could not hand job %s over", job_id)

    async def _attempt(self, job: ClaimedJob, reply: JobReply, client: AsyncWebClient) -> list[int]:
        if job.attempt > jobs.MAX_ATTEMPTS:
            with contextlib.suppress(Exception):  # told or not, it is given up
                await reply(**gave_up_message(job.name).as_kwargs())
            return await jobs.give_up(self._ctx, job, self._worker, told=reply.told)
        if job.attempt > 1:
            earlier = await jobs.changed_rows(self._ctx, job.id)
            if earlier:  # its first run got that far: say where they stand, do nothing again
                views = await announcing.views_of(self._ctx, earlier)
                await reply(**resumed_message(job.name, views).as_kwargs())
                busy = {v.id: v.status for v in views if v.status in IN_FLIGHT}
                return await jobs.finish(
                    self._ctx, job, self._worker, told=reply.told, shown_busy=busy
                )
        handler = self._handlers[(job.surface, job.name)]
        with jobs.acting(job.id):
            try:
                await handler(job, reply, client)
            except Exception as exc:  # the one place job failures are turned into replies
                await report(exc, reply)
        return await jobs.finish(self._ctx, job, self._worker, told=reply.told)

    @contextlib.asynccontextmanager
    async def _heartbeat(self, job: ClaimedJob) -> AsyncIterator[None]:
        async def beat() -> None:
            while True:
                await asyncio.sleep(self.lease / 3)
                try:
                    await jobs.renew(self._ctx, job.id, self._worker, self.lease)
                except (SQLAlchemyError, OSError):  # the next beat tries again
                    log.warning("could not renew the lease of job %s", job.id)

        task = asyncio.create_task(beat())
        try:
            yield
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def sweep_orphans(self) -> int:
        """Start every job nobody runs (its process died, or never started it)."""
        if len(self._mine) >= self._workers:  # busy: other replicas take them meanwhile
            return 0
        found = [
            job_id
            for job_id in await jobs.orphans(self._ctx, ORPHAN_GRACE_SECONDS)
            if job_id not in self._mine
        ]
        for job_id in found:
            self.start(job_id)
        return len(found)

    def start_loops(self, poll: float = 2.0) -> None:
        """The orphan sweep and the Slack sync, until `stop_loops`."""
        self.sync.start()
        self._task = asyncio.create_task(self._orphan_loop(poll))

    async def stop_loops(self) -> None:
        """Stop sweeping (jobs already started are drained with the background)."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self.sync.stop()

    async def _orphan_loop(self, poll: float) -> None:
        while True:
            try:
                await self.sweep_orphans()
            except Exception:  # a failed sweep must not end the loop; the next one retries
                log.exception("orphan job sweep failed")
            await asyncio.sleep(poll)


class NotRecorded(Exception):
    """The database did not take the job: nothing was started."""
