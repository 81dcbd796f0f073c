"""Web-app image uploads: a presigned PUT slot, then a public ``/app_data/photon/`` URL.

The gateway must re-upload foreign images before using them on a web account; this store plays
the role of Luma's bucket so that flow can be exercised end to end over loopback.
"""

from __future__ import annotations

import io
import secrets
import uuid
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

UPLOAD_PUBLIC_PREFIX = "/app_data/photon/user_uploads/"


@dataclass
class Upload:
    """One upload slot; ``data`` is set once the PUT arrived with a valid image."""

    id: str
    credential: str
    signature: str
    data: bytes | None = None
    content_type: str = "image/jpeg"


class NotAnImage(ValueError):
    """The PUT body is not an image Pillow can read."""


def sniff_image(data: bytes) -> str:
    """The MIME type of an image, or ``NotAnImage``."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
            kind = image.format
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise NotAnImage(str(exc)) from exc
    return Image.MIME.get(kind or "", "application/octet-stream")


class UploadStore:
    """Upload slots by id (in memory: uploads are small and the sim is not durable)."""

    def __init__(self) -> None:
        self._uploads: dict[str, Upload] = {}

    def reset(self) -> None:
        self._uploads.clear()

    def open_slot(self, credential: str) -> Upload:
        upload = Upload(
            id=str(uuid.uuid4()), credential=credential, signature=secrets.token_hex(16)
        )
        self._uploads[upload.id] = upload
        return upload

    def put(self, upload_id: str, signature: str, data: bytes) -> Upload | None:
        """Store the bytes; None if the slot or signature is wrong, ``NotAnImage`` if bad data."""
        upload = self._uploads.get(upload_id)
        if upload is None or not secrets.compare_digest(upload.signature, signature):
            return None
        upload.content_type = sniff_image(data)
        upload.data = data
        return upload

    def get(self, upload_id: str) -> Upload | None:
        upload = self._uploads.get(upload_id)
        if upload is None or upload.data is None:
            return None
        return upload
