# syntax=docker/dockerfile:1
# The lumagate gateway as a container image (docs/operations.md).
#   docker build -t lumagate .
#   docker run -p 8000:8000 -v lumagate-data:/data lumagate
# Stage "build" turns lumagate and every dependency into wheels; stage "runtime" installs only
# those wheels (no compiler, no source tree) and runs as an unprivileged user.
ARG PYTHON_VERSION=3.12

FROM python:${PYTHON_VERSION}-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
RUN python -m pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:${PYTHON_VERSION}-slim AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    LUMAGATE_DATA_DIR=/data \
    LUMAGATE_HOST=0.0.0.0 \
    LUMAGATE_PORT=8000
RUN useradd --system --uid 10001 --user-group --home-dir /data --shell /usr/sbin/nologin lumagate \
    && mkdir -p /data && chown lumagate:lumagate /data
COPY --from=build /wheels /wheels
RUN python -m pip install --no-cache-dir --no-index --find-links /wheels lumagate \
    && rm -rf /wheels
USER lumagate
WORKDIR /data
# SQLite database, media, generated secret.key and admin.key (single node); with PostgreSQL
# the replicas share this volume for media.
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ['LUMAGATE_PORT'] + '/healthz', timeout=4)"
CMD ["sh", "-c", "exec lumagate serve --host \"$LUMAGATE_HOST\" --port \"$LUMAGATE_PORT\""]
