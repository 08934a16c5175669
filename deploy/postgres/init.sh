#!/bin/sh
# First-start initialisation of the suite's PostgreSQL database.
#
# The official postgres image runs this once, from /docker-entrypoint-initdb.d, when the data volume
# is empty (it never runs again: see deploy/postgres/README.md to change a password later). It gives
# each service two LOGIN roles and one schema, and nothing else:
#   - `<service>_owner` owns schema `<service>` and every table in it; only migrations log in as it
#     (`<P>MIGRATION_DATABASE_URL`), so only they can alter tables or their triggers;
#   - `<service>`, the role the running service logs in as, owns nothing: it reads and writes rows
#     through default privileges on the owner's tables, and the audit migration takes back UPDATE,
#     DELETE and TRUNCATE on the audit tables (leaving only the sealing UPDATE), so neither the
#     service nor anyone holding its credentials can disable the append-only triggers or edit history;
#   - nobody but the superuser can create anything in `public`, or connect without being granted;
#   - no role is granted anything in another service's schema.
#
# Passwords come from SABILULUNGAN_DB_PASSWORD, HAYU_DB_PASSWORD and ERK_DB_PASSWORD (runtime roles)
# and SABILULUNGAN_OWNER_DB_PASSWORD, HAYU_OWNER_DB_PASSWORD and ERK_OWNER_DB_PASSWORD (owners). A
# password that is empty or a placeholder (change-me) creates its role without a password: the role
# exists but cannot log in until `ALTER ROLE ... PASSWORD` is run, so a disabled service is no way in.
set -eu

: "${POSTGRES_USER:=postgres}"
: "${POSTGRES_DB:=$POSTGRES_USER}"
SERVICES="sabilulungan hayu erk"

admin_psql() {
    psql -v ON_ERROR_STOP=1 --no-psqlrc --quiet \
        --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" "$@"
}

# Lock the database down: only granted roles connect (to it, and to the `postgres` maintenance database
# when that is another one), and `public` is closed to everyone but its owner.
admin_psql -v db="$POSTGRES_DB" <<'SQL'
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
REVOKE ALL ON SCHEMA public FROM PUBLIC;
SELECT :'db' <> 'postgres' AS separate_database \gset
\if :separate_database
REVOKE ALL ON DATABASE postgres FROM PUBLIC;
\endif
SQL

login_password_of() {
    eval "value=\${$1:-}"
    case "$value" in
        "" | change-me | changethis)
            echo "init.sh: $1 is not set; its role is created but cannot log in" >&2
            printf ''
            ;;
        *) printf '%s' "$value" ;;
    esac
}

for service in $SERVICES; do
    upper="$(printf '%s' "$service" | tr '[:lower:]' '[:upper:]')"
    login_password="$(login_password_of "${upper}_DB_PASSWORD")"
    owner_password="$(login_password_of "${upper}_OWNER_DB_PASSWORD")"

    # psql quotes :"role" as an identifier and :'password' as a literal, so no value is spliced raw.
    # The owner's migrations may run `CREATE SCHEMA IF NOT EXISTS`, which PostgreSQL checks against
    # the CREATE privilege on the database even when the schema exists, hence that database grant.
    admin_psql -v role="$service" -v owner="${service}_owner" -v schema="$service" \
        -v db="$POSTGRES_DB" -v password="$login_password" -v owner_password="$owner_password" <<'SQL'
SELECT :'password' = '' AS no_password \gset
SELECT :'owner_password' = '' AS no_owner_password \gset
CREATE ROLE :"owner" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION NOBYPASSRLS;
\if :no_owner_password
\else
ALTER ROLE :"owner" PASSWORD :'owner_password';
\endif
CREATE ROLE :"role" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION NOBYPASSRLS;
\if :no_password
\else
ALTER ROLE :"role" PASSWORD :'password';
\endif
GRANT CONNECT, CREATE ON DATABASE :"db" TO :"owner";
GRANT CONNECT ON DATABASE :"db" TO :"role";
CREATE SCHEMA :"schema" AUTHORIZATION :"owner";
REVOKE ALL ON SCHEMA :"schema" FROM PUBLIC;
GRANT USAGE ON SCHEMA :"schema" TO :"role";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA :"schema"
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO :"role";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA :"schema"
    GRANT USAGE, SELECT ON SEQUENCES TO :"role";
ALTER ROLE :"owner" IN DATABASE :"db" SET search_path = :"schema";
ALTER ROLE :"role" IN DATABASE :"db" SET search_path = :"schema";
SQL
    echo "init.sh: roles ${service}_owner and $service, schema $service ready" >&2
done
