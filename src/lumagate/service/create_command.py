"""What a create asks for, as a dialect understood it, and the bounds of its text.

Every dialect turns its body into a :class:`CreateCommand`; :class:`~lumagate.service.tasks.
TaskService` validates and stores it (kept apart from the service so that module stays small).
The command carries the caller's own name of each value (:class:`CreateFields`), so a 400 about
any of them names the field the caller sent, in whichever dialect it spoke.
"""

from __future__ import annotations

from dataclasses import dataclass

from lumagate.domain.channels import Channel
from lumagate.domain.limits import (
    MAX_IDEMPOTENCY_KEY,
    MAX_PROMPT,
    MAX_SHORT_TEXT,
    MAX_URL,
    check_text,
)


@dataclass(frozen=True)
class CreateFields:
    """The name the caller's dialect gives each value of a create, for the errors about it.

    The attributes are those of :class:`CreateCommand`; the defaults are the reseller's names.
    A dialect whose value is derived (e.g. OpenAI's ``size`` for the aspect ratio) names the
    field it was derived from.
    """

    prompt: str = "user_prompt"
    idempotency_key: str = "Idempotency-Key"
    notify_url: str = "notify_hook"
    model: str = "model_name"
    aspect_ratio: str = "aspect_ratio"
    resolution: str = "resolution"
    duration: str = "duration"
    start_image: str = "image_url"
    end_image: str = "image_end_url"
    concepts: str = "concepts"

    @classmethod
    def plain(cls, start_image: str, end_image: str) -> CreateFields:
        """The plain names (``prompt``, ``model``, ``callback_url``) and the dialect's images."""
        return cls(
            prompt="prompt",
            notify_url="callback_url",
            model="model",
            start_image=start_image,
            end_image=end_image,
        )


@dataclass(frozen=True)
class CreateCommand:
    """A create or extend as a dialect understood it; values still to be validated."""

    channel: Channel
    dialect: str
    prompt: str = ""
    aspect_ratio: str = "16:9"
    loop: bool = False
    expand_prompt: bool = True
    model: str | None = None
    resolution: str = "720p"
    duration: str | int | float = "5s"
    start_image: object = None
    end_image: object = None
    notify_url: str | None = None
    idempotency_key: str | None = None
    concepts: tuple[str, ...] = ()
    fields: CreateFields = CreateFields()  # the caller's names, used in 400s


def check_command_text(command: CreateCommand) -> None:
    """Every text of a create within its documented bound (domain/limits.py), storable; a
    refusal names the caller's own field (:attr:`CreateCommand.fields`)."""
    names = command.fields
    check_text(command.prompt, names.prompt, MAX_PROMPT)
    check_text(command.idempotency_key, names.idempotency_key, MAX_IDEMPOTENCY_KEY)
    check_text(command.notify_url, names.notify_url, MAX_URL)
    check_text(command.model, names.model, MAX_SHORT_TEXT)
    check_text(command.aspect_ratio, names.aspect_ratio, MAX_SHORT_TEXT)
    check_text(command.resolution, names.resolution, MAX_SHORT_TEXT)
    if isinstance(command.duration, str):
        check_text(command.duration, names.duration, MAX_SHORT_TEXT)
    images = ((command.start_image, names.start_image), (command.end_image, names.end_image))
    for image, field in images:
        if isinstance(image, str):  # data: URIs are bounded by the body size, URLs by MAX_URL
            check_text(image, field, len(image) if image.startswith("data:") else MAX_URL)
    for concept in command.concepts:
        check_text(concept, names.concepts, MAX_SHORT_TEXT)
