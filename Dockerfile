# mockbay in a container: `docker build -t mockbay . && docker run -p 8080:8080 mockbay`
# Your scenarios at /scenarios: `docker run -v "$PWD/scenarios:/scenarios:ro" -p 8080:8080 mockbay`
# Arguments after the image name go to `mockbay serve`; MOCKBAY_* variables work as on the host.
# `make image-test` builds this file and checks the image from the host (podman where no Docker engine).
ARG BASE_IMAGE=python:3.11-slim

# ---- build: a virtual environment from the lock file, then mockbay itself ----------------------
FROM ${BASE_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
COPY requirements/serve.lock requirements/serve.lock
RUN python3 -m venv /opt/mockbay \
    && /opt/mockbay/bin/pip install --no-cache-dir --no-deps -r requirements/serve.lock
COPY pyproject.toml README.md ./
COPY mockbay ./mockbay
# The bundled-scenarios link points outside the package; the image serves /scenarios instead.
# Bytecode, and the code `@dataclass` generates (mockbay/codecache.py), are compiled here: the
# user cannot write them at run time, and the health check imports mockbay every 10 s (`-P`: the
# installed package's, not the source folder's here).
RUN rm -f mockbay/bundled \
    && /opt/mockbay/bin/pip install --no-cache-dir --no-deps . \
    && /opt/mockbay/bin/pip uninstall --yes pip \
    && /opt/mockbay/bin/python -m compileall -q -j 0 /opt/mockbay \
    && /opt/mockbay/bin/python -P -m mockbay.compile_dataclasses -q

# ---- run: the base, tini, the environment, the scenarios; nothing else --------------------------
FROM ${BASE_IMAGE}
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="mockbay" \
      org.opencontainers.image.description="An offline, deterministic stand-in for the Anthropic Messages API, driven by YAML scenarios." \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.documentation="README.md in the source tree: the standalone server, Docker"
ENV PATH=/opt/mockbay/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    MOCKBAY_HOST=0.0.0.0 \
    MOCKBAY_PORT=8080 \
    MOCKBAY_SCENARIOS=/scenarios
# tini is PID 1, mockbay its child (docs/container.md, "Signals, PID 1 and exit codes"). The
# kernel gives PID 1 no default signal actions: with Python there, a SIGTERM sent before mockbay's
# handlers existed was dropped and the stop waited for SIGKILL. tini passes signals on, reaps
# orphans, and `-e 143` makes a SIGTERM during start-up exit 0 like one later; `-s` keeps it
# reaping under `docker run --init`. No version pin: the base's Debian release fixes it, as for
# the base's own packages, and a pinned revision would break when BASE_IMAGE changes release.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends tini \
    && apt-get clean \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /opt/mockbay /opt/mockbay
COPY scenarios /scenarios
# A numeric user, so Kubernetes' runAsNonRoot can check it; no home, nothing to write.
USER 10001:10001
EXPOSE 8080
# Follows the port the server was given (MOCKBAY_PORT or --port), read from its command line.
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
    CMD ["python3", "-m", "mockbay.server.healthcheck"]
ENTRYPOINT ["/usr/bin/tini", "-s", "-e", "143", "--", "mockbay", "serve"]
