"""A typed Python client for a lumagate gateway (reseller dialect), blocking and asyncio.

    from lumagate.client import LumagateClient

    with LumagateClient("http://127.0.0.1:8000", "sk-lg-...") as client:
        task = client.create("a red fox running", aspect_ratio="16:9")
        done = client.wait(task, on_progress=lambda g: print(g.stage, g.progress))
        client.download(done, "fox.mp4")

See docs/client.md for every method and the exceptions they raise.
"""

from lumagate.client.async_client import AsyncLumagateClient
from lumagate.client.calls import VideoOptions
from lumagate.client.errors import (
    AuthenticationError,
    GatewayUnreachableError,
    LumagateError,
    NotFoundError,
    NotReadyError,
    PermissionDeniedError,
    QuotaExceededError,
    RateLimitError,
    ServerError,
    TaskFailedError,
    ValidationError,
    WaitTimeoutError,
)
from lumagate.client.images import ImageInput
from lumagate.client.models import Generation, UploadedImage, Usage
from lumagate.client.sync_client import LumagateClient
from lumagate.client.waiting import ProgressCallback

__all__ = [
    "AsyncLumagateClient",
    "AuthenticationError",
    "GatewayUnreachableError",
    "Generation",
    "ImageInput",
    "LumagateClient",
    "LumagateError",
    "NotFoundError",
    "NotReadyError",
    "PermissionDeniedError",
    "ProgressCallback",
    "QuotaExceededError",
    "RateLimitError",
    "ServerError",
    "TaskFailedError",
    "UploadedImage",
    "Usage",
    "ValidationError",
    "VideoOptions",
    "WaitTimeoutError",
]
