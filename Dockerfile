# Image of one service of the suite: Sabilulungan, HAYU or e-RK, chosen by the SERVICE argument.
#
# Build from the repository root (the context needs requirements.lock, shared/, services/ and deploy/):
#   docker build --build-arg SERVICE=hayu -t layanan-daerah/hayu .
# docker-compose.yml builds the three (`docker compose --profile all build`). Where no public registry
# is reachable, name a Python base image and a package index you do have:
#   docker build --build-arg SERVICE=hayu \
#     --build-arg BASE_IMAGE=registry.pemda.local/python:3.11-slim-bookworm \
#     --build-arg PIP_INDEX_URL=https://pypi.pemda.local/simple -t layanan-daerah/hayu .
# or build the base images locally from Debian's packages: deploy/local/base-images.sh.
# (No `# syntax=` line on purpose: it would make BuildKit fetch a frontend image from Docker Hub.)

ARG BASE_IMAGE=python:3.11-slim-bookworm

# ---- build: the locked dependencies, shared and the one service in a self-contained virtualenv ----
FROM ${BASE_IMAGE} AS build
ARG PIP_INDEX_URL
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PATH=/opt/venv/bin:$PATH
SHELL ["/bin/sh", "-eu", "-c"]
RUN python -m venv /opt/venv
WORKDIR /src
# The dependencies first, exactly as locked (versions and hashes): this layer is shared by the three
# images (SERVICE is declared after it) and reused until the lock changes; no rebuild can ship a
# version CI never tested.
COPY requirements.lock ./
RUN pip install --no-cache-dir --require-hashes --no-deps -r requirements.lock
ARG SERVICE
RUN case "${SERVICE:-}" in \
        sabilulungan | hayu | erk) ;; \
        *) echo "build argument SERVICE must be sabilulungan, hayu or erk (got '${SERVICE:-}')" >&2; exit 1 ;; \
    esac
# Then the code: shared and this one service, copied into the virtualenv as plain packages (templates,
# static files, migrations and all); the two other services are not in the image at all.
COPY shared ./shared
COPY services/${SERVICE}/${SERVICE} ./${SERVICE}
RUN site="$(python -c 'import sysconfig; print(sysconfig.get_path("purelib"))')" \
    && cp -R shared "${SERVICE}" "$site/" \
    && python -m compileall -q "$site/shared" "$site/${SERVICE}" \
    && python -c "import importlib; importlib.import_module('${SERVICE}.main'); importlib.import_module('${SERVICE}.__main__')" \
    && test -f "$site/${SERVICE}/migrations/env.py" \
    && for other in sabilulungan hayu erk; do \
        if [ "$other" != "${SERVICE}" ] && python -c "import $other" 2>/dev/null; then \
            echo "$other must not be importable in the ${SERVICE} image" >&2; exit 1; \
        fi; \
    done

# ---- runtime: the virtualenv, DejaVu fonts for PDFs, a non-root user ----
FROM ${BASE_IMAGE} AS runtime

# Not version-pinned on purpose: BASE_IMAGE is a build argument, and a Debian version pin would
# break the build on any other release. The package is a font, with no behaviour to drift.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

# A fixed uid/gid, so volume ownership and Kubernetes' runAsUser agree across images and rebuilds.
RUN groupadd --system --gid 10001 layanan \
    && useradd --system --uid 10001 --gid layanan --home-dir /data --no-create-home \
        --shell /usr/sbin/nologin layanan \
    && mkdir -p /data/uploads \
    && chown -R 10001:10001 /data

# Everything above is shared by the three images; from here on, this service's.
ARG SERVICE
LABEL org.opencontainers.image.title="layanan-daerah/${SERVICE}" \
      org.opencontainers.image.description="layanan-daerah ${SERVICE}: e-government service for Indonesian regencies" \
      org.opencontainers.image.licenses="MIT"
COPY --from=build /opt/venv /opt/venv
COPY deploy/entrypoint.sh /usr/local/bin/entrypoint.sh
COPY deploy/check_database.py /usr/local/lib/layanan/check_database.py

# The entrypoint sets <SERVICE>_ENVIRONMENT=production and <SERVICE>_UPLOAD_DIR=/data/uploads when unset.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    LAYANAN_SERVICE=${SERVICE} \
    ROOT_PATH="" \
    PORT=8000 \
    MIGRATE_ON_START=1

WORKDIR /data
USER 10001:10001
EXPOSE 8000

# Liveness only (the process answers); readiness, database and migrations included, is GET /ready.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ.get('PORT', '8000'), timeout=4)"]

# Run through sh, so the script needs no executable bit whatever the checkout or builder did.
ENTRYPOINT ["/bin/sh", "/usr/local/bin/entrypoint.sh"]
CMD ["serve"]
