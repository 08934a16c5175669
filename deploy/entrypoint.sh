#!/bin/sh
# Entrypoint of the three service images: `entrypoint.sh <service> [serve [uvicorn options...] | command...]`.
#
#   serve (the default)  migrate the service's schema to head, then replace this shell with uvicorn
#   anything else        run it as given, e.g. `docker compose run --rm hayu python -m hayu seed-demo`
#
# Environment:
#   ROOT_PATH            path prefix the proxy serves the service under (e.g. /hayu); empty when served
#                        at the root. The proxy strips the prefix; uvicorn puts it back into generated URLs.
#   MIGRATE_ON_START     1 (default) runs `python -m <service> migrate` first; 0 skips it, for replicas
#                        started after the migration ran once.
#   FORWARDED_ALLOW_IPS  proxies whose X-Forwarded-* headers are trusted (default *: the service is only
#                        reachable through the proxy on the internal network).
set -eu

usage="usage: entrypoint.sh <sabilulungan|hayu|erk> [serve [uvicorn options...] | command...]"
service="${1:?$usage}"
shift
case "$service" in
    sabilulungan | hayu | erk) ;;
    *)
        echo "entrypoint.sh: unknown service '$service'; $usage" >&2
        exit 64
        ;;
esac

if [ "$#" -gt 0 ] && [ "$1" != serve ]; then
    exec "$@"
fi
if [ "$#" -gt 0 ]; then
    shift # "serve"
fi

if [ "${MIGRATE_ON_START:-1}" = 1 ]; then
    python -m "$service" migrate
fi
# Migrations log in as the schema's owner; the serving process never holds that password.
unset "$(printf '%s' "$service" | tr '[:lower:]' '[:upper:]')_MIGRATION_DATABASE_URL"

exec uvicorn "$service.main:app" \
    --host 0.0.0.0 \
    --port 8000 \
    --proxy-headers \
    --forwarded-allow-ips="${FORWARDED_ALLOW_IPS:-*}" \
    --root-path "${ROOT_PATH:-}" \
    "$@"
