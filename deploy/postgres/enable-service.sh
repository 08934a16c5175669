#!/bin/sh
# Enable a service after the database was first created, or apply a database password changed in
# .env: sets the password of the service's PostgreSQL role(s) to what .env says.
#
#   deploy/postgres/enable-service.sh <sabilulungan|hayu|erk> [path/to/.env]
#
# Run from the repository root, with the stack's PostgreSQL running (`docker compose up -d postgres`).
# init.sh reads the passwords only once, when the data volume is created; a service left at change-me
# then has a role that cannot log in. This script sets `<service>` to <SERVICE>_DB_PASSWORD and, where
# the role exists and the variable is set, `<service>_owner` to <SERVICE>_OWNER_DB_PASSWORD. Passwords
# go to psql on its standard input, never on a command line. Then start the service:
#   docker compose --profile <service> up -d --wait
# COMPOSE overrides the compose command, e.g.
#   COMPOSE="docker compose -f docker-compose.yml -f deploy/compose.local.yml" deploy/postgres/enable-service.sh erk
set -eu

usage="usage: enable-service.sh <sabilulungan|hayu|erk> [env-file]"
service="${1:?$usage}"
env_file="${2:-.env}"
case "$service" in
    sabilulungan | hayu | erk) ;;
    *)
        echo "enable-service.sh: unknown service '$service'; $usage" >&2
        exit 64
        ;;
esac
[ -r "$env_file" ] || { echo "enable-service.sh: cannot read $env_file" >&2; exit 66; }

value_of() { sed -n "s/^$1=//p" "$env_file" | tail -n 1; }
# A value inside psql's single quotes: each ' doubled, each \ escaped.
psql_quoted() { printf "'%s'" "$(printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e "s/'/''/g")"; }

prefix="$(printf '%s' "$service" | tr '[:lower:]' '[:upper:]')"
password="$(value_of "${prefix}_DB_PASSWORD")"
owner_password="$(value_of "${prefix}_OWNER_DB_PASSWORD")"
database="$(value_of POSTGRES_DB)"
case "$password" in
    "" | change-me | changethis)
        echo "enable-service.sh: set ${prefix}_DB_PASSWORD in $env_file first (see its header)" >&2
        exit 78
        ;;
esac
case "$owner_password" in
    change-me | changethis) owner_password="" ;;
esac

# shellcheck disable=SC2086  # COMPOSE is a command with its arguments
{
    printf '\\set role %s\n' "$(psql_quoted "$service")"
    printf '\\set owner %s\n' "$(psql_quoted "${service}_owner")"
    printf '\\set password %s\n' "$(psql_quoted "$password")"
    printf '\\set owner_password %s\n' "$(psql_quoted "$owner_password")"
    cat <<'SQL'
ALTER ROLE :"role" LOGIN PASSWORD :'password';
SELECT :'owner_password' <> '' AND EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'owner')
    AS set_owner \gset
\if :set_owner
ALTER ROLE :"owner" LOGIN PASSWORD :'owner_password';
\endif
SQL
} | ${COMPOSE:-docker compose} exec -T postgres \
    psql -v ON_ERROR_STOP=1 --no-psqlrc --quiet -U postgres -d "${database:-layanan}"

echo "enable-service.sh: database password of $service set; now start it:" >&2
echo "    docker compose --profile $service up -d --wait" >&2
