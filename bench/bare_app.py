"""The baseline: a bare Starlette app answering the gateway's hot routes with a JSON of the same
shape and size, served by uvicorn with the settings ``lumagate serve`` uses.

Run: ``python -m bench.bare_app --port 8100``. It touches no database: the gap between it and
the gateway is what the gateway's own work costs.
"""

from __future__ import annotations

import argparse
import uuid
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


def generation(task_id: str) -> dict[str, Any]:
    """A flat generation object like the gateway's (a task still processing)."""
    return {
        "id": task_id,
        "prompt": "a red fox running through snow",
        "state": "processing",
        "queue_state": None,
        "created_at": "2026-12-01T08:00:00.000Z",
        "batch_id": "",
        "video": None,
        "video_raw": None,
        "thumbnail": None,
        "last_frame": None,
        "liked": None,
        "estimate_wait_seconds": 42,
        "failure_reason": None,
        "request": {
            "prompt": "a red fox running through snow",
            "aspect_ratio": "16:9",
            "loop": False,
            "model": "ray-2",
            "resolution": "720p",
            "duration": "5s",
        },
        "model": "ray-2",
        "server_id": "lumagate",
    }


async def get_generation(request: Request) -> JSONResponse:
    return JSONResponse(generation(request.path_params["task_id"]))


async def list_generations(request: Request) -> JSONResponse:
    limit = int(request.query_params.get("limit", "10"))
    return JSONResponse([generation(str(uuid.uuid4())) for _ in range(min(limit, 100))])


async def create_generation(request: Request) -> JSONResponse:
    body = await request.json()
    answer = generation(str(uuid.uuid4()))
    answer["prompt"] = str(body.get("user_prompt", ""))
    answer["state"] = "pending"
    return JSONResponse(answer, status_code=201)


async def batch_tasks(request: Request) -> JSONResponse:
    body = await request.json()
    ids = [str(i) for i in body.get("ids", [])][:100]
    return JSONResponse({"data": [{"id": i, "data": generation(i)} for i in ids]})


async def healthz(_: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


app = Starlette(
    routes=[
        Route("/healthz", healthz),
        Route("/luma/generations", list_generations, methods=["GET"]),
        Route("/luma/generations", create_generation, methods=["POST"]),
        Route("/luma/generations/{task_id}", get_generation),
        Route("/luma/tasks", batch_tasks, methods=["POST"]),
    ]
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args()
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=args.port,
        log_level=args.log_level,
        timeout_graceful_shutdown=10,
    )


if __name__ == "__main__":
    main()
