# pixelbot's container image.
#
#   docker build -t pixelbot .
#   docker run --rm --env-file .env pixelbot pixelbot db upgrade   # once per release
#   docker run -d --env-file .env -p 3000:3000 pixelbot            # pixelbot serve
#
# Everything is installed through constraints.txt, the versions CI tested. A `wheelhouse/`
# folder in the build context (made with `pip wheel -c constraints.txt -w wheelhouse .` plus
# the build backend, as .ci/docker does) makes the build fully offline; without one, pip
# uses the package index.
#
# BASE_IMAGE must be a Debian-like image with python3 (>= 3.11) and its venv module; both
# stages use it, so the virtualenv built in the first one runs unchanged in the second.
ARG BASE_IMAGE=python:3.12-slim

# --- build: wheels for pixelbot and its dependencies, then the virtualenv --------------------
FROM ${BASE_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python3 -m venv /opt/build
WORKDIR /src

# Dependencies first, from pyproject.toml and constraints.txt only, so that editing the code
# rebuilds neither their wheels nor their installation. The `wheelhouse*` wildcard lets the
# folder be absent: its wheels, if any, land beside constraints.txt in /wheelhouse.
COPY constraints.txt wheelhouse* /wheelhouse/
COPY pyproject.toml ./
RUN set -eu; \
    if ls /wheelhouse/*.whl >/dev/null 2>&1; then \
        echo "installing from the wheelhouse only (offline)"; \
        echo "--no-index --find-links /wheelhouse" >/wheelhouse/source; \
    else \
        echo "installing from the package index"; \
        : >/wheelhouse/source; \
    fi; \
    /opt/build/bin/python -c 'import tomllib; print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]))' >requirements.txt; \
    /opt/build/bin/pip wheel $(cat /wheelhouse/source) -c /wheelhouse/constraints.txt \
        -r requirements.txt --wheel-dir /wheels

# The runtime virtualenv, from those wheels only. It gets no pip of its own: the build
# environment's pip installs into it, and nothing installs anything at run time.
RUN python3 -m venv --without-pip /opt/pixelbot \
 && /opt/build/bin/pip --python /opt/pixelbot/bin/python install --no-index \
        --find-links /wheels -c /wheelhouse/constraints.txt -r requirements.txt

# Then pixelbot itself: only what builds the package (.dockerignore keeps the rest out).
COPY README.md setup.py app_manifest.yaml ./
COPY migrations ./migrations
COPY bot ./bot
RUN /opt/build/bin/pip wheel $(cat /wheelhouse/source) --no-deps --wheel-dir /wheels/app . \
 && /opt/build/bin/pip --python /opt/pixelbot/bin/python install --no-index \
        --find-links /wheels -c /wheelhouse/constraints.txt /wheels/app/pixelbot-*.whl

# --- runtime: the base image, the virtualenv, an unprivileged user ---------------------------
FROM ${BASE_IMAGE} AS runtime

# A fixed uid, so that volumes and Kubernetes' runAsNonRoot can rely on it (--no-log-init:
# a high uid would otherwise grow a large sparse lastlog). Its home is the working folder:
# the default SQLite file (for a quick try; use PostgreSQL for real) and an optional `.env`
# are read from there.
RUN groupadd --gid 10001 pixelbot \
 && useradd --uid 10001 --gid pixelbot --no-log-init --create-home --home-dir /var/lib/pixelbot \
        --shell /usr/sbin/nologin pixelbot

# Owned by root: the app user can run the code but not change it.
COPY --from=build /opt/pixelbot /opt/pixelbot

ENV PATH=/opt/pixelbot/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOST=0.0.0.0 \
    PORT=3000
USER pixelbot
WORKDIR /var/lib/pixelbot
EXPOSE 3000

# /livez says the process answers (not the database: a database outage must not get every
# replica restarted). urllib raises on anything but 2xx, so the exit status is the answer.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/livez' % os.environ.get('PORT', '3000'), timeout=4)"

# No ENTRYPOINT, so that `docker run IMAGE pixelbot db upgrade` runs the one-off migration.
# pixelbot is PID 1 and handles SIGTERM itself: in-flight requests finish, then it exits 0.
CMD ["pixelbot", "serve"]
