#!/bin/sh
# Entrypoint of the local PostgreSQL image: what the official image's does, in a few lines.
# First start on an empty $PGDATA: initdb (superuser $POSTGRES_USER with $POSTGRES_PASSWORD, password
# authentication over TCP, trust on the local socket), create $POSTGRES_DB, run
# /docker-entrypoint-initdb.d/* against a server listening on its socket only, stop it. Then run the
# command (postgres) as the postgres user.
set -eu

: "${PGDATA:=/var/lib/postgresql/data}"
: "${POSTGRES_USER:=postgres}"
: "${POSTGRES_DB:=$POSTGRES_USER}"
export PGDATA POSTGRES_USER POSTGRES_DB

if [ "$(id -u)" = 0 ]; then
    mkdir -p "$PGDATA"
    [ "$(stat -c %U "$PGDATA")" = postgres ] || chown -R postgres:postgres "$PGDATA"
    chmod 700 "$PGDATA"
    exec setpriv --reuid=postgres --regid=postgres --init-groups /bin/sh "$0" "$@"
fi

if [ "${1:-}" = postgres ] && [ ! -s "$PGDATA/PG_VERSION" ]; then
    if [ -z "${POSTGRES_PASSWORD:-}" ]; then
        echo "docker-entrypoint: POSTGRES_PASSWORD is not set; refusing to create a database" >&2
        exit 1
    fi
    pwfile="$(mktemp)"
    printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
    # shellcheck disable=SC2086  # POSTGRES_INITDB_ARGS is a list of options, as in the official image
    initdb --username="$POSTGRES_USER" --pwfile="$pwfile" --auth-local=trust \
        --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 ${POSTGRES_INITDB_ARGS:-} >/dev/null
    rm -f "$pwfile"
    printf 'host all all all scram-sha-256\n' >>"$PGDATA/pg_hba.conf"
    pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
    if [ "$POSTGRES_DB" != postgres ]; then
        # psql quotes :"db" as an identifier (stdin: -c does not interpolate variables).
        echo 'CREATE DATABASE :"db"' | psql -v ON_ERROR_STOP=1 --no-psqlrc -q \
            -U "$POSTGRES_USER" -d postgres -v db="$POSTGRES_DB"
    fi
    for f in /docker-entrypoint-initdb.d/*; do
        case "$f" in
            *.sh)
                echo "docker-entrypoint: running $f" >&2
                if [ -x "$f" ]; then "$f"; else . "$f"; fi
                ;;
            *.sql)
                echo "docker-entrypoint: running $f" >&2
                psql -v ON_ERROR_STOP=1 --no-psqlrc -q -U "$POSTGRES_USER" -d "$POSTGRES_DB" -f "$f"
                ;;
            *) ;;
        esac
    done
    pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
    echo "docker-entrypoint: database initialised" >&2
fi

exec "$@"
