"""The media backend the settings choose: the data dir, or S3 for ``LUMAGATE_MEDIA_URL``.

Shared by the server (:mod:`lumagate.gateway`) and ``lumagate media gc``
(:func:`media_retention`), so both read and delete the same objects. S3 credentials are the
standard ``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY`` of ``environ`` (the process
environment).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from lumagate.engine.retention import MediaRetention
from lumagate.media.backend import MediaBackend
from lumagate.media.local import LocalBackend
from lumagate.media.store import MediaStore
from lumagate.settings import Settings
from lumagate.wiring.stores import Stores


def media_backend(settings: Settings, environ: Mapping[str, str] | None = None) -> MediaBackend:
    """The backend of ``settings.media_url`` (unset: ``<data dir>/media``)."""
    if not settings.media_url:
        return LocalBackend(settings.media_dir)
    from lumagate.media.s3 import S3Backend  # obstore (~8 MiB) loads only for an S3 backend

    env = os.environ if environ is None else environ
    return S3Backend.from_url(
        settings.media_url,
        endpoint_url=settings.s3_endpoint_url,
        region=settings.s3_region,
        access_key_id=env.get("AWS_ACCESS_KEY_ID"),
        secret_access_key=env.get("AWS_SECRET_ACCESS_KEY"),
    )


def media_retention(stores: Stores, retention_days: float) -> MediaRetention:
    """The retention sweep over the settings' media store (for ``lumagate media gc``)."""
    settings = stores.settings
    media = MediaStore(media_backend(settings), settings.resolved_public_url())
    return MediaRetention(stores.media_retention, media, retention_days)
