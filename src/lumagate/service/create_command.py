"""What a create asks for, as a dialect understood it, and the bounds of its text.

Every dialect turns its body into a :class:`CreateCommand`; :class:`~lumagate.service.tasks.
TaskService` validates and stores it (kept apart from the service so that module stays small).
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
    image_fields: tuple[str, str] = ("image_url", "image_end_url")  # names used in 400s


def check_command_text(command: CreateCommand) -> None:
    """Every text of a create within its documented bound (domain/limits.py), storable."""
    check_text(command.prompt, "user_prompt", MAX_PROMPT)
    check_text(command.idempotency_key, "Idempotency-Key", MAX_IDEMPOTENCY_KEY)
    check_text(command.notify_url, "notify_hook", MAX_URL)
    check_text(command.model, "model_name", MAX_SHORT_TEXT)
    check_text(command.aspect_ratio, "aspect_ratio", MAX_SHORT_TEXT)
    check_text(command.resolution, "resolution", MAX_SHORT_TEXT)
    if isinstance(command.duration, str):
        check_text(command.duration, "duration", MAX_SHORT_TEXT)
    start_field, end_field = command.image_fields  # the dialect's names, as in its other 400s
    for image, field in ((command.start_image, start_field), (command.end_image, end_field)):
        if isinstance(image, str):  # data: URIs are bounded by the body size, URLs by MAX_URL
            check_text(image, field, len(image) if image.startswith("data:") else MAX_URL)
    for concept in command.concepts:
        check_text(concept, "concepts", MAX_SHORT_TEXT)
