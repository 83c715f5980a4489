# The level5 operator image: the Python package and kopf, run as a non-root user.
# Build where a Docker engine exists:  docker build -t level5/operator:dev .
ARG BASE_IMAGE=python:3.11-slim-bookworm
FROM ${BASE_IMAGE}
WORKDIR /app
COPY pyproject.toml README.md ./
COPY operator ./operator
RUN pip install --no-cache-dir . && useradd -u 65532 -m level5 && mkdir -p /var/lib/level5 \
 && chown 65532 /var/lib/level5
USER 65532
ENV LEVEL5_AUDIT_PATH=/var/lib/level5/audit.jsonl
# Liveness/readiness: kopf's health endpoint on :8080/healthz.
ENTRYPOINT ["kopf", "run", "--standalone", "--liveness=http://0.0.0.0:8080/healthz", "-m", "level5.handlers"]
CMD ["--all-namespaces"]
