"""Task use cases for every dialect: create, extend, read, list, batch, estimates and links."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from urllib.parse import parse_qsl, unquote

from lumagate.domain import messages as msg
from lumagate.domain.clock import utcnow
from lumagate.domain.errors import InvalidRequest, NotReady, TaskNotFound, media_removed
from lumagate.domain.request import GenerationRequest, media_ref
from lumagate.domain.states import TaskState
from lumagate.domain.task import Task
from lumagate.domain.task_end import CANCELLED_BY_CALLER, deadline_at
from lumagate.domain.tenant import ApiKey
from lumagate.domain.video import (
    ASPECT_RATIOS,
    RESOLUTIONS,
    normalize_duration,
    normalize_model,
)
from lumagate.media.images import InvalidImage, check_pixels, sniff_image_type
from lumagate.media.store import MediaFetchError, MediaStore, MediaUnavailable
from lumagate.service.admission import Admission
from lumagate.service.cancels import TaskCancels
from lumagate.service.create_command import CreateCommand as CreateCommand  # re-exported
from lumagate.service.create_command import CreateFields, check_command_text
from lumagate.service.deliverability import Deliverability
from lumagate.service.idempotency import check_replay, fingerprint
from lumagate.service.wait_estimate import WaitEstimator
from lumagate.store.accounts import AccountStore
from lumagate.store.errors import IdempotencyKeyTaken
from lumagate.store.hot_write import HotWrites
from lumagate.store.task_pages import TaskPageQuery
from lumagate.store.tasks import NewTask, TaskStore
from lumagate.store.unit_of_work import Transactions, UnitOfWork

IDEMPOTENCY_WINDOW = timedelta(hours=24)


class TaskService:
    """What every dialect calls to create, extend, read, list and hide a tenant's tasks."""

    def __init__(
        self,
        tasks: TaskStore,
        accounts: AccountStore,
        media: MediaStore,
        *,
        transactions: Transactions,
        default_model: str,
        max_image_bytes: int,
        on_queued: Callable[[Task], None] | None = None,
        admission: Admission | None = None,
        on_created: Callable[[Task], None] | None = None,
        deliverability: Deliverability | None = None,
        cancels: TaskCancels | None = None,
        default_deadline_minutes: float = 0.0,
        hot_writes: HotWrites | None = None,
    ) -> None:
        self.tasks = tasks
        self.transactions = transactions  # one unit of work stores a task with its charge
        # That unit of work on the raw driver (store/hot_write.py; it falls back to the engine).
        self.writes: HotWrites | Transactions = hot_writes or transactions
        self.admission = admission  # limits and charge, in the transaction storing the task
        self.accounts = accounts
        self.media = media
        self.default_model = default_model
        self.max_image_bytes = max_image_bytes
        self.on_queued = on_queued
        self.on_created = on_created  # metrics: a new task was stored (not an idempotent replay)
        self.cancels = cancels or TaskCancels(tasks)
        self.default_deadline_minutes = default_deadline_minutes  # 0: none (a key may override)
        self.deliverability = deliverability  # refuse (or degrade) what no account can deliver
        self.waits = WaitEstimator(tasks, accounts)

    # -- writes -------------------------------------------------------------------------
    async def create(self, tenant: ApiKey, command: CreateCommand) -> Task:
        request = await self._request(command, extend_of=None)
        if not request.prompt and request.start_image is None:
            field = command.fields.prompt
            raise InvalidRequest(msg.PROMPT_OR_IMAGE(field=field), field=field)
        return await self._store(tenant, command, request, pinned=None)

    async def extend(self, tenant: ApiKey, source_id: str, command: CreateCommand) -> Task:
        check_command_text(command)  # a 400 for the caller's own text whatever the source is
        source = await self.get(tenant, source_id)
        if source.state != TaskState.COMPLETED:
            raise InvalidRequest(
                msg.EXTEND_NOT_COMPLETED(), field="task_id", code="task_not_completed"
            )
        request = await self._request(command, extend_of=source.id, source=source)
        return await self._store(tenant, command, request, pinned=source.account_id)

    async def _store(
        self, tenant: ApiKey, command: CreateCommand, request: GenerationRequest, pinned: str | None
    ) -> Task:
        now = utcnow()
        request_print = fingerprint(
            request,
            channel=command.channel,
            dialect=command.dialect,
            notify_url=command.notify_url,
        )
        if self.deliverability is not None:  # after the fingerprint: a replay asks the same
            request = await self.deliverability.check(
                request,
                command.channel,
                pinned=pinned,
                field_names=_capability_field_names(command.fields),
            )
        new = self._new_task(tenant, command, request, pinned, now, request_print)
        key = command.idempotency_key
        since = now - IDEMPOTENCY_WINDOW

        async def store(work: UnitOfWork) -> tuple[Task, bool]:
            """The new task (True), or the earlier one ``key`` names (False: nothing stored)."""
            if key:
                earlier = await work.tasks.take_idempotency_key(tenant.id, key, since)
                if earlier is not None:
                    return _replayed(earlier, command, request_print), False
            if self.admission is not None:
                await self.admission.admit(work, tenant, new, now)
            return await work.tasks.insert(new, now), True

        try:
            task, created = await self.writes.run(store)
        except IdempotencyKeyTaken:
            # A concurrent twin won the race: answer with it.
            earlier = await self.tasks.find_idempotent(tenant.id, key, since) if key else None
            if earlier is None:
                raise
            return _replayed(earlier, command, request_print)
        if not created:
            return task
        if self.on_created is not None:
            self.on_created(task)
        if self.on_queued is not None:
            self.on_queued(task)  # the dispatcher's wake-up (skipped while its pool is full)
        return task

    def _new_task(
        self,
        tenant: ApiKey,
        command: CreateCommand,
        request: GenerationRequest,
        pinned: str | None,
        now: datetime,
        request_print: str,
    ) -> NewTask:
        return NewTask(
            id=str(uuid.uuid4()),
            tenant_id=tenant.id,
            channel=command.channel,
            dialect=command.dialect,
            request=request,
            notify_url=command.notify_url,
            idempotency_key=command.idempotency_key,
            idempotency_fingerprint=request_print if command.idempotency_key else None,
            pinned_account_id=pinned,
            source_task_id=request.extend_of,
            deadline_at=deadline_at(now, tenant.deadline_minutes, self.default_deadline_minutes),
        )

    async def _request(
        self, command: CreateCommand, *, extend_of: str | None, source: Task | None = None
    ) -> GenerationRequest:
        check_command_text(command)
        names = command.fields  # every refusal names the caller's own field
        try:
            model = normalize_model(command.model or self.default_model)
        except ValueError as exc:
            raise InvalidRequest(
                msg.FIELD_DETAIL(field=names.model, detail=exc), field=names.model
            ) from None
        try:
            duration = normalize_duration(command.duration)
        except ValueError as exc:
            raise InvalidRequest(
                msg.FIELD_DETAIL(field=names.duration, detail=exc), field=names.duration
            ) from None
        aspect = source.request.aspect_ratio if source else command.aspect_ratio
        resolution = source.request.resolution if source else command.resolution
        if aspect not in ASPECT_RATIOS:
            raise InvalidRequest(
                msg.ONE_OF(field=names.aspect_ratio, choices=", ".join(ASPECT_RATIOS)),
                field=names.aspect_ratio,
            )
        if resolution not in RESOLUTIONS:
            raise InvalidRequest(
                msg.ONE_OF(field=names.resolution, choices=", ".join(RESOLUTIONS)),
                field=names.resolution,
            )
        return GenerationRequest(
            prompt=command.prompt,
            aspect_ratio=aspect,
            loop=command.loop,
            expand_prompt=command.expand_prompt,
            model=model,
            resolution=resolution,
            duration=duration,
            start_image=await self._image(command.start_image, names.start_image),
            end_image=await self._image(command.end_image, names.end_image),
            extend_of=extend_of,
            concepts=command.concepts,
        )

    async def _image(self, value: object, field: str, *, host_urls: bool = False) -> str | None:
        if isinstance(value, str):
            own = self.media.public_base_url.rstrip("/") + "/files/"
            if value.startswith(own) and len(value) > len(own):
                path, _, query = value[len(own) :].partition("?")
                key = unquote(path)
                try:
                    valid = self.media.link_valid(key, dict(parse_qsl(query)))
                    if valid and await self.media.exists(key):
                        return media_ref(key)  # our own upload: read it locally
                except (ValueError, MediaUnavailable):
                    pass
        try:
            return await self.media.store_image_input(
                value, self.max_image_bytes, host_urls=host_urls
            )
        except InvalidImage as exc:
            raise InvalidRequest(msg.FIELD_DETAIL(field=field, detail=exc), field=field) from None
        except MediaFetchError as exc:  # MediaRefused included: decided before connecting
            raise InvalidRequest(exc.describe(field), field=field) from None

    async def upload_image(self, value: object) -> str:
        """Store an uploaded image (a URL is fetched through the SSRF guard, or a data URI);
        returns its asset reference."""
        ref = await self._image(value, "url", host_urls=True)
        if ref is None:
            raise InvalidRequest(msg.FIELD_REQUIRED(field="url"), field="url")
        return ref

    async def upload_bytes(self, data: bytes) -> str:
        kind = sniff_image_type(data)
        if kind is None:
            raise InvalidRequest(msg.NOT_AN_IMAGE(field="file"), field="file")
        if len(data) > self.max_image_bytes:
            raise InvalidRequest(msg.TOO_LARGE_FILE(field="file"), field="file")
        try:
            check_pixels(data)
        except InvalidImage as exc:
            raise InvalidRequest(msg.FIELD_DETAIL(field="file", detail=exc), field="file") from None
        suffix = "." + kind.split("/")[-1].replace("jpeg", "jpg")
        return media_ref(await self.media.asave_bytes(data, "uploads", suffix))

    # -- reads --------------------------------------------------------------------------
    async def get(self, tenant: ApiKey, task_id: str) -> Task:
        task = await self.tasks.get(task_id, tenant.id) if plausible_task_id(task_id) else None
        if task is None:
            raise TaskNotFound(msg.TASK_NOT_FOUND())
        return task

    async def get_by_number(self, tenant: ApiKey, number: int) -> Task:
        """A task by the number of :func:`lumagate.domain.numeric_ids.numeric_id` (new-api's
        ``id int64``); the same 404 as :meth:`get` when it is not the caller's."""
        task = await self.tasks.find_by_number(number, tenant.id) if number > 0 else None
        if task is None:
            raise TaskNotFound(msg.TASK_NOT_FOUND())
        return task

    async def get_many(self, tenant: ApiKey, task_ids: list[str]) -> list[Task]:
        return await self.tasks.get_many([i for i in task_ids if plausible_task_id(i)], tenant.id)

    async def list_tasks(
        self, tenant: ApiKey, *, offset: int, limit: int, before: str | None = None
    ) -> tuple[list[Task], bool]:
        """A page of the caller's tasks, newest first, and whether more follow (``before``:
        continue after that task id; an unknown id gives an empty page)."""
        if before is not None and not plausible_task_id(before):
            return [], False
        return await self.tasks.list_for_tenant(
            tenant.id, offset=offset, limit=limit, before=before
        )

    async def page(
        self,
        tenant: ApiKey,
        *,
        limit: int,
        offset: int = 0,
        after: str | None = None,
        states: tuple[str, ...] = (),
        oldest_first: bool = False,
    ) -> tuple[list[Task], bool]:
        """A page of the caller's tasks (newest first unless ``oldest_first``) and whether more
        follow. ``after`` is the id of the previous page's last task (keyset: stable while new
        tasks arrive; an unknown or foreign id gives an empty page); ``states`` are public state
        names (``pending``, ``processing``, ``completed``, ``failed``)."""
        if after is not None and not plausible_task_id(after):
            return [], False
        query = TaskPageQuery(
            tenant_id=tenant.id,
            limit=limit,
            offset=offset,
            after=after,
            states=engine_states(states),
            oldest_first=oldest_first,
        )
        return await self.tasks.page(query)

    async def hide(self, tenant: ApiKey, task_id: str) -> None:
        if not plausible_task_id(task_id) or not await self.tasks.hide(
            task_id, tenant.id, utcnow()
        ):
            raise TaskNotFound(msg.TASK_NOT_FOUND())

    async def cancel(self, tenant: ApiKey, task_id: str) -> Task:
        """Cancel the caller's unfinished task (``service/cancels.py``); 404 for another's."""
        if not plausible_task_id(task_id):
            raise TaskNotFound(msg.TASK_NOT_FOUND())
        return await self.cancels.cancel(task_id, tenant_id=tenant.id, reason=CANCELLED_BY_CALLER)

    async def download_url(self, tenant: ApiKey, task_id: str) -> str:
        task = await self.get(tenant, task_id)
        if task.media_removed:
            raise media_removed(task.failure_reason)
        if task.state != TaskState.COMPLETED or task.media is None:
            raise NotReady(msg.VIDEO_NOT_READY())
        return self.media.public_url(task.media.best_download)

    def link(self, ref: str | None) -> str | None:
        return None if ref is None else self.media.public_url(ref)

    async def estimate_wait_seconds(self, task: Task) -> int | None:
        """Queue position over capacity times the recent run time; None when unknown (from
        bounded-age snapshots: :mod:`lumagate.service.wait_estimate`)."""
        return await self.waits.estimate(task)


def _replayed(earlier: tuple[Task, str | None], command: CreateCommand, request_print: str) -> Task:
    task, stored = earlier
    check_replay(
        task,
        stored,
        channel=command.channel,
        dialect=command.dialect,
        new_fingerprint=request_print,
    )
    return task


def _capability_field_names(fields: CreateFields) -> dict[str, str]:
    """The caller's names for the fields a channel may be unable to deliver (``loop`` is the
    same in every dialect), so a refusal says ``size`` or ``seconds`` to an OpenAI caller."""
    return {
        "model": fields.model,
        "resolution": fields.resolution,
        "duration": fields.duration,
        "end_image": fields.end_image,
    }


def engine_states(public_names: tuple[str, ...]) -> tuple[TaskState, ...]:
    """The engine states behind public state names; an unknown name is a 400 naming ``state``."""
    known = {state.public for state in TaskState}
    unknown = [name for name in public_names if name not in known]
    if unknown:
        raise InvalidRequest(
            msg.STATE_ONE_OF(choices=", ".join(sorted(known)), got=repr(unknown[0])),
            field="state",
        )
    return tuple(state for state in TaskState if state.public in public_names)


def plausible_task_id(value: str) -> bool:
    """Whether ``value`` can be a task id (a UUID); anything else is not found unread."""
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
