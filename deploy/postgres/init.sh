#!/bin/sh
# First-start initialisation of the suite's PostgreSQL database.
#
# The official postgres image runs this once, from /docker-entrypoint-initdb.d, when the data volume
# is empty (it never runs again: see deploy/postgres/README.md to change a password later). It gives
# each service one LOGIN role and one schema owned by that role, and nothing else:
#   - role `sabilulungan` owns schema `sabilulungan`, role `hayu` owns `hayu`, role `erk` owns `erk`;
#   - nobody but the superuser can create anything in `public`, or connect without being granted;
#   - no role is granted anything in another service's schema.
#
# Passwords come from SABILULUNGAN_DB_PASSWORD, HAYU_DB_PASSWORD and ERK_DB_PASSWORD. A service whose
# password is empty or a placeholder (change-me) gets its role and schema without a password: the role
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

for service in $SERVICES; do
    variable="$(printf '%s' "$service" | tr '[:lower:]' '[:upper:]')_DB_PASSWORD"
    eval "password=\${$variable:-}"
    case "$password" in
        "" | change-me | changethis)
            echo "init.sh: $variable is not set; role $service is created but cannot log in" >&2
            login_password=""
            ;;
        *)
            login_password="$password"
            ;;
    esac

    # psql quotes :"role" as an identifier and :'password' as a literal, so no value is spliced raw.
    # The service's migrations run `CREATE SCHEMA IF NOT EXISTS`, which PostgreSQL checks against the
    # CREATE privilege on the database even when the schema exists, hence that one database grant.
    admin_psql -v role="$service" -v db="$POSTGRES_DB" -v password="$login_password" <<'SQL'
SELECT :'password' = '' AS no_password \gset
CREATE ROLE :"role" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION NOBYPASSRLS;
\if :no_password
\else
ALTER ROLE :"role" PASSWORD :'password';
\endif
GRANT CONNECT, CREATE ON DATABASE :"db" TO :"role";
CREATE SCHEMA :"role" AUTHORIZATION :"role";
REVOKE ALL ON SCHEMA :"role" FROM PUBLIC;
ALTER ROLE :"role" IN DATABASE :"db" SET search_path = :"role";
SQL
    echo "init.sh: role and schema $service ready" >&2
done
