"""check_command_text: every text of a create within its bound, refused under the field name
the caller's dialect uses, and a data: URI bounded by the body rather than by MAX_URL."""

from __future__ import annotations

from dataclasses import fields, replace

import pytest

from lumagate.domain.channels import Channel
from lumagate.domain.errors import InvalidRequest
from lumagate.domain.limits import MAX_IDEMPOTENCY_KEY, MAX_PROMPT, MAX_SHORT_TEXT, MAX_URL
from lumagate.service.create_command import CreateCommand, CreateFields, check_command_text

COMMAND = CreateCommand(channel=Channel.DEFAULT, dialect="reseller", prompt="a red fox")
URL = "https://example.test/"


def _refused(command: CreateCommand) -> InvalidRequest:
    with pytest.raises(InvalidRequest) as refused:
        check_command_text(command)
    return refused.value


def test_a_command_within_every_bound_passes() -> None:
    at_bounds = replace(
        COMMAND,
        prompt="p" * MAX_PROMPT,
        idempotency_key="k" * MAX_IDEMPOTENCY_KEY,
        notify_url=URL + "n" * (MAX_URL - len(URL)),
        model="m" * MAX_SHORT_TEXT,
        duration="d" * MAX_SHORT_TEXT,
        start_image=URL + "s" * (MAX_URL - len(URL)),
        concepts=("c" * MAX_SHORT_TEXT,),
    )
    check_command_text(at_bounds)  # raises on any text over its bound


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"prompt": "p" * (MAX_PROMPT + 1)}, "user_prompt"),
        ({"idempotency_key": "k" * (MAX_IDEMPOTENCY_KEY + 1)}, "Idempotency-Key"),
        ({"notify_url": URL + "n" * MAX_URL}, "notify_hook"),
        ({"model": "m" * (MAX_SHORT_TEXT + 1)}, "model_name"),
        ({"aspect_ratio": "a" * (MAX_SHORT_TEXT + 1)}, "aspect_ratio"),
        ({"resolution": "r" * (MAX_SHORT_TEXT + 1)}, "resolution"),
        ({"duration": "d" * (MAX_SHORT_TEXT + 1)}, "duration"),
        ({"concepts": ("ok", "c" * (MAX_SHORT_TEXT + 1))}, "concepts"),
        ({"start_image": URL + "s" * MAX_URL}, "image_url"),
        ({"end_image": URL + "e" * MAX_URL}, "image_end_url"),
    ],
)
def test_a_text_over_its_bound_is_refused_under_its_field(
    change: dict[str, object], field: str
) -> None:
    refused = _refused(replace(COMMAND, **change))  # type: ignore[arg-type]
    assert (refused.field, refused.code) == (field, "too_long")


def test_an_unstorable_text_is_refused_under_its_field() -> None:
    refused = _refused(replace(COMMAND, prompt="a\x00fox"))
    assert refused.field == "user_prompt" and refused.code != "too_long"


TOO_LONG = {
    "prompt": "p" * (MAX_PROMPT + 1),
    "idempotency_key": "k" * (MAX_IDEMPOTENCY_KEY + 1),
    "notify_url": URL + "n" * MAX_URL,
    "model": "m" * (MAX_SHORT_TEXT + 1),
    "aspect_ratio": "a" * (MAX_SHORT_TEXT + 1),
    "resolution": "r" * (MAX_SHORT_TEXT + 1),
    "duration": "d" * (MAX_SHORT_TEXT + 1),
    "concepts": ("c" * (MAX_SHORT_TEXT + 1),),
    "start_image": URL + "s" * MAX_URL,
    "end_image": URL + "e" * MAX_URL,
}


def test_every_field_map_entry_names_its_own_value() -> None:
    assert sorted(TOO_LONG) == sorted(f.name for f in fields(CreateFields))
    names = CreateFields(**{name: f"caller.{name}" for name in TOO_LONG})
    for name, value in TOO_LONG.items():
        refused = _refused(replace(COMMAND, fields=names, **{name: value}))  # type: ignore[arg-type]
        assert (refused.field, refused.code) == (f"caller.{name}", "too_long")


def test_an_image_url_is_refused_under_the_dialects_own_field_name() -> None:
    official = replace(
        COMMAND,
        fields=CreateFields(start_image="keyframes.frame0.url", end_image="keyframes.frame1.url"),
    )
    assert _refused(replace(official, start_image=URL + "s" * MAX_URL)).field == (
        "keyframes.frame0.url"
    )
    assert _refused(replace(official, end_image=URL + "e" * MAX_URL)).field == (
        "keyframes.frame1.url"
    )


def test_a_data_uri_is_not_bounded_by_the_url_limit_but_must_be_storable() -> None:
    long_data = "data:image/png;base64," + "A" * (4 * MAX_URL)
    check_command_text(replace(COMMAND, start_image=long_data))
    refused = _refused(replace(COMMAND, end_image="data:image/png;base64,\x00"))
    assert refused.field == "image_end_url"


def test_values_that_are_not_text_are_left_to_the_services_other_checks() -> None:
    check_command_text(replace(COMMAND, duration=10**9, start_image=b"\x00" * MAX_URL * 2))
