"""Every knob of the simulated upstream in one validated, immutable object.

The CLI, the test fixtures and the ``/_sim/config`` debug endpoint all build a ``SimConfig``;
the rest of the sim only reads it, so one place decides what a valid setting is.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator


class SimConfig(BaseModel):
    """Behaviour of ``lumagate sim``: limits, timeline, faults, sessions and media."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # Limits (per credential: an API key or a web session identity).
    max_concurrency: int = Field(default=10, ge=1, description="Non-terminal generations allowed.")
    creates_per_minute: int = Field(default=20, ge=1, description="Creates in any 60 s window.")

    # Timeline.
    queued_seconds: float = Field(default=1.0, ge=0.0, description="Time spent queued/pending.")
    dreaming_seconds: float = Field(default=3.0, ge=0.0, description="Time dreaming/processing.")
    tick_seconds: float = Field(default=0.05, gt=0.0, le=1.0, description="Longest ticker sleep.")

    # Faults (API routes only), drawn from an RNG seeded with ``seed``.
    error_rate: float = Field(default=0.0, ge=0.0, le=1.0, description="Share answered 500.")
    timeout_rate: float = Field(default=0.0, ge=0.0, le=1.0, description="Share that hang.")
    timeout_seconds: float = Field(default=30.0, ge=0.0, description="Hang time before 504.")
    slow_rate: float = Field(default=0.0, ge=0.0, le=1.0, description="Share answered late.")
    slow_seconds: float = Field(default=2.0, ge=0.0, description="Extra delay of a slow answer.")
    lost_response_rate: float = Field(
        default=0.0, ge=0.0, le=1.0, description="Share of creates recorded but answered 502."
    )
    moderation_marker: str = Field(
        default="blocked-word", description="Prompts containing it fail moderation ('' = never)."
    )
    seed: int | None = Field(default=None, description="RNG seed for faults and quirks.")

    # Quirks.
    web_null_video_rate: float = Field(
        default=0.3, ge=0.0, le=1.0, description="Share of web completions first shown video:null."
    )
    callback_duplicate_rate: float = Field(
        default=0.1, ge=0.0, le=1.0, description="Share of callbacks delivered twice."
    )

    # Credentials.
    api_key_prefix: str = Field(default="luma-", description="Official API keys must start so.")
    web_token_prefix: str = Field(default="", description="New web access tokens must start so.")
    session_lifetime_seconds: float = Field(
        default=3600.0, gt=0.0, description="A web access token dies this long after issue."
    )
    session_rotate_seconds: float = Field(
        default=600.0, gt=0.0, description="Tokens older than this get a Set-Cookie successor."
    )

    # Accounting.
    initial_credits_cents: int = Field(default=1_000_000, ge=0, description="Official balance.")
    generation_cost_cents: int = Field(default=40, ge=0, description="Official cost per create.")
    web_capacity: int = Field(default=1000, ge=0, description="Web generations per subscription.")

    # Callbacks (per §1 of UPSTREAM.md).
    callback_retries: int = Field(default=3, ge=0, description="Retries after a non-2xx reply.")
    callback_retry_delay: float = Field(default=0.1, ge=0.0, description="Seconds between tries.")
    callback_timeout: float = Field(default=5.0, gt=0.0, description="Per-attempt timeout.")

    # Media and URLs.
    media_dir: Path | None = Field(default=None, description="Clip cache; a temp dir if unset.")
    public_base_url: str | None = Field(
        default=None, description="Base of the URLs the sim hands out; the request's if unset."
    )
    media_ttl_seconds: float | None = Field(
        default=None, gt=0.0, description="Media links expire (403) this long after issue."
    )

    @model_validator(mode="after")
    def _check(self) -> SimConfig:
        if self.public_base_url is not None and not self.public_base_url.startswith(
            ("http://", "https://")
        ):
            raise ValueError("public_base_url must start with http:// or https://")
        return self

    def updated(self, changes: dict[str, Any]) -> SimConfig:
        """A validated copy with ``changes`` applied (unknown keys are rejected)."""
        return SimConfig.model_validate({**self.model_dump(), **changes})
