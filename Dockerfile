# The level5 operator image: the level5 package and its dependencies in a venv at /opt/level5/venv,
# run by kopf as uid 65532. Its only writable state is /var/lib/level5 (the audit log) and /tmp, which
# the chart mounts as emptyDirs, so it runs with a read-only root filesystem.
# Build where a Docker engine exists:  docker build -t level5.local/operator:dev .
# (Without Docker, `make images` builds the same image from a debootstrap rootfs: cluster/operator-image.sh.)
# BASE_IMAGE must provide python3 >= 3.11 with its venv module and C headers (the default is Debian
# bookworm's 3.11); the build stage compiles layer 5's modules (setup.py) with gcc.
ARG BASE_IMAGE=python:3.11-slim-bookworm

FROM ${BASE_IMAGE} AS build
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends gcc libc6-dev >/dev/null \
 && rm -rf /var/lib/apt/lists/*
RUN python3 -m venv /opt/level5/venv
WORKDIR /src
COPY pyproject.toml setup.py README.md ./
COPY operator ./operator
RUN /opt/level5/venv/bin/pip install --no-cache-dir --disable-pip-version-check . \
 && /opt/level5/venv/bin/pip uninstall -y -q pip setuptools

FROM ${BASE_IMAGE}
RUN groupadd -g 65532 level5 \
 && useradd -K UID_MAX=65532 -u 65532 -g 65532 -d /var/lib/level5 -M -s /usr/sbin/nologin level5 \
 && install -d -o 65532 -g 65532 -m 0750 /var/lib/level5
COPY --from=build /opt/level5/venv /opt/level5/venv
ENV PATH=/opt/level5/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    LEVEL5_AUDIT_PATH=/var/lib/level5/audit.jsonl \
    HOME=/var/lib/level5 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
USER 65532:65532
WORKDIR /var/lib/level5
# kopf's health endpoint (liveness/readiness): :8080/healthz.
EXPOSE 8080
ENTRYPOINT ["kopf", "run", "--standalone", "--liveness=http://0.0.0.0:8080/healthz", "-m", "level5.handlers"]
CMD ["--all-namespaces"]
