-- Split a service's database role in two, once, on a database created before init.sh made an owner
-- role and a runtime role per service (deploy/postgres/README.md). Run as the superuser:
--
--   docker compose exec -T postgres psql -U postgres -d layanan -v ON_ERROR_STOP=1 \
--     -v role=hayu -v owner=hayu_owner -v schema=hayu -v db=layanan \
--     -v owner_password='the-owner-password' < deploy/postgres/split-roles.sql
--
-- Afterwards `role` (the service) owns nothing and `owner` owns the schema, its tables, sequences and
-- trigger functions. The next `python -m <service> migrate`, run as the owner, takes UPDATE, DELETE
-- and TRUNCATE on the audit tables back from the service's role.
CREATE ROLE :"owner" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION NOBYPASSRLS
    PASSWORD :'owner_password';
GRANT CONNECT, CREATE ON DATABASE :"db" TO :"owner";
ALTER ROLE :"owner" IN DATABASE :"db" SET search_path = :"schema";
REASSIGN OWNED BY :"role" TO :"owner";
REVOKE CREATE ON DATABASE :"db" FROM :"role";
GRANT USAGE ON SCHEMA :"schema" TO :"role";
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA :"schema" TO :"role";
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA :"schema" TO :"role";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA :"schema"
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO :"role";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA :"schema"
    GRANT USAGE, SELECT ON SEQUENCES TO :"role";
