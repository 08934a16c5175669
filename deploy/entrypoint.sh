#!/bin/sh
# Entrypoint of the service images: `entrypoint.sh [<service>] [serve [uvicorn options...] | command...]`.
#
#   serve (the default)  check the database login, migrate the service's schema to head, then replace
#                        this shell with uvicorn
#   anything else        run it as given, e.g. `docker compose run --rm hayu python -m hayu seed-demo`
#
# The service is the first argument when it is one of sabilulungan, hayu, erk; otherwise
# $LAYANAN_SERVICE, which the image sets from its SERVICE build argument.
#
# Environment:
#   ROOT_PATH            path prefix the proxy serves the service under (e.g. /hayu); empty when served
#                        at the root. The proxy strips the prefix; uvicorn puts it back into generated URLs.
#   MIGRATE_ON_START     1 (default) runs `python -m <service> migrate` first; 0 skips it, for replicas
#                        started after the migration ran once.
#   LISTEN_HOST, PORT    address and port uvicorn listens on (default 0.0.0.0 and 8000).
#   <SERVICE>_TRUSTED_PROXIES (or TRUSTED_PROXIES)  addresses or CIDR ranges, separated by commas or
#                        spaces, whose X-Forwarded-For and X-Forwarded-Proto are believed: the reverse
#                        proxy and the regency's gateway. Passed on to the service comma-separated.
#   FORWARDED_ALLOW_IPS  uvicorn's list of the same; defaults to the above, else 127.0.0.1 (never "*":
#                        anyone could then pretend to be anyone).
#   <SERVICE>_ENVIRONMENT and <SERVICE>_UPLOAD_DIR default to production and /data/uploads.
set -eu

usage="usage: entrypoint.sh [sabilulungan|hayu|erk] [serve [uvicorn options...] | command...]"
service="${LAYANAN_SERVICE:-}"
case "${1:-}" in
    sabilulungan | hayu | erk)
        service="$1"
        shift
        ;;
    *) ;;
esac
case "$service" in
    sabilulungan | hayu | erk) ;;
    *)
        echo "entrypoint.sh: unknown service '$service'; $usage" >&2
        exit 64
        ;;
esac

prefix="$(printf '%s' "$service" | tr '[:lower:]' '[:upper:]')"
eval "environment=\${${prefix}_ENVIRONMENT:-production}"
eval "upload_dir=\${${prefix}_UPLOAD_DIR:-/data/uploads}"
export "${prefix}_ENVIRONMENT=$environment" "${prefix}_UPLOAD_DIR=$upload_dir"
# <SERVICE>_TRUSTED_PROXIES may be written with spaces (as Caddy wants TRUSTED_PROXIES); the service
# and uvicorn read a comma-separated list.
eval "trusted=\${${prefix}_TRUSTED_PROXIES:-\${TRUSTED_PROXIES:-}}"
trusted="$(printf '%s' "$trusted" | tr ' \t' ',,' | tr -s ',' | sed 's/^,//; s/,$//')"
if [ -n "$trusted" ]; then
    export "${prefix}_TRUSTED_PROXIES=$trusted"
fi

if [ "$#" -gt 0 ] && [ "$1" != serve ]; then
    exec "$@"
fi
if [ "$#" -gt 0 ]; then
    shift # "serve"
fi

# A wrong database password (a service enabled after the first start, a rotated secret) stops here
# with a message saying what to do, instead of a traceback in a restart loop.
if [ -f /usr/local/lib/layanan/check_database.py ]; then
    python /usr/local/lib/layanan/check_database.py "$service"
fi

if [ "${MIGRATE_ON_START:-1}" = 1 ]; then
    python -m "$service" migrate
fi
# Migrations log in as the schema's owner; the serving process never holds that password.
unset "$(printf '%s' "$service" | tr '[:lower:]' '[:upper:]')_MIGRATION_DATABASE_URL"

allowed="${FORWARDED_ALLOW_IPS:-${trusted:-127.0.0.1}}"
exec uvicorn "$service.main:app" \
    --host "${LISTEN_HOST:-0.0.0.0}" \
    --port "${PORT:-8000}" \
    --proxy-headers \
    --forwarded-allow-ips="$allowed" \
    --root-path "${ROOT_PATH:-}" \
    "$@"
