"""The media settings: ``LUMAGATE_MEDIA_URL`` is ``s3://bucket[/prefix]`` or unset."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from lumagate.settings import Settings


def test_media_defaults_keep_media_in_the_data_dir_for_ever() -> None:
    settings = Settings()
    assert settings.media_url is None
    assert settings.media_serve == "proxy"
    assert settings.media_retention_days is None


@pytest.mark.parametrize(
    "value", ["s3://bucket", "s3://bucket/some/prefix"], ids=["bare", "prefix"]
)
def test_s3_urls_are_accepted(value: str) -> None:
    assert Settings(media_url=value).media_url == value


def test_empty_media_url_means_the_data_dir() -> None:
    assert Settings(media_url=" ").media_url is None


@pytest.mark.parametrize(
    "value",
    ["http://bucket/x", "s3://", "s3:///prefix", "s3://b/../x", "/srv/media"],
    ids=["http", "no-bucket", "empty-bucket", "dotdot", "path"],
)
def test_other_media_urls_are_refused(value: str) -> None:
    with pytest.raises(ValidationError, match="LUMAGATE_MEDIA_URL"):
        Settings(media_url=value)


@pytest.mark.parametrize("field", ["media_serve", "media_retention_days"], ids=["serve", "days"])
def test_bad_serve_mode_and_retention_are_refused(field: str) -> None:
    bad: dict[str, object] = {"media_serve": "stream", "media_retention_days": 0}
    with pytest.raises(ValidationError):
        Settings(**{field: bad[field]})
