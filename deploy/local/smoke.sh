#!/bin/sh
# The whole stack for real, on this machine only: build the three images, start `--profile all` with
# host networking on 127.0.0.1 (deploy/compose.local.yml), then, through the proxy: /ready of each
# service, the first administrator, one write per service, the proxy behind a simulated gateway,
# audit-verify, a backup (database and uploads), a restore onto fresh volumes, the data and uploads
# back with the ownership the image expects, and tear down. Prints its wall time.
#
#   deploy/local/smoke.sh            (CI runs it from .ci/run; needs a running Docker engine)
#   SMOKE_KEEP=1 deploy/local/smoke.sh   leave the restored stack running afterwards
#
# Idempotent: a previous run's containers and volumes (project "layanan-smoke") are removed first.
# Cached: base images and image layers are reused, so a second run builds nothing.
set -eu

started="$(date +%s)"
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"
work="$root/var/smoke"
mkdir -p "$work/backup"
python="${SMOKE_PYTHON:-$root/.venv/bin/python}"

log="$work/compose.log"
: >"$log"
step() { printf -- '--- smoke: %s (%ss) ---\n' "$*" "$(($(date +%s) - started))"; }
# Docker's progress output goes to var/smoke/compose.log; its end is shown when a command fails.
quiet() { "$@" >>"$log" 2>&1 || { tail -n 40 "$log" >&2; return 1; }; }

if docker compose version >/dev/null 2>&1; then
    set -- docker compose
elif [ -x "$root/.venv/bin/docker-compose" ]; then
    set -- "$root/.venv/bin/docker-compose"
else
    echo "smoke: no Docker Compose v2 (docker compose, or .venv/bin/docker-compose)" >&2
    exit 1
fi
compose_bin="$*"
docker info >/dev/null 2>&1 || { echo "smoke: no Docker engine answers (start dockerd)" >&2; exit 1; }

# Secrets of this throw-away stack: generated once, kept in var/ (never committed).
env_file="$work/smoke.env"
if [ ! -s "$env_file" ]; then
    "$python" - "$root/.env.example" "$env_file" <<'PY'
import base64, secrets, sys
out = []
for line in open(sys.argv[1]).read().splitlines():
    if "=" in line and not line.startswith("#"):
        name, value = line.split("=", 1)
        if value == "change-me":
            value = (secrets.token_urlsafe(24) if "PASSWORD" in name
                     else base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())
        if name == "PUBLIC_URL":
            value = "http://127.0.0.1:18180"
        line = f"{name}={value}"
    out.append(line)
open(sys.argv[2], "w").write("\n".join(out) + "\n")
PY
fi
SMOKE_ADMIN_PASSWORD="$(sed -n 's/^HAYU_SECRET_KEY=\(.\{20\}\).*/admin-\1/p' "$env_file")"
SMOKE_OWNER_PASSWORD="$(sed -n 's/^ERK_SECRET_KEY=\(.\{20\}\).*/pemilik-\1/p' "$env_file")"
export SMOKE_ADMIN_PASSWORD SMOKE_OWNER_PASSWORD
db="$(sed -n 's/^POSTGRES_DB=//p' "$env_file")"

compose() {
    $compose_bin -p layanan-smoke -f "$root/docker-compose.yml" -f "$root/deploy/compose.local.yml" \
        --env-file "$env_file" --profile all "$@"
}
teardown() { compose down -v --remove-orphans >/dev/null 2>&1 || true; }
if [ "${SMOKE_KEEP:-0}" != 1 ]; then
    trap teardown EXIT
fi

step "base images"
"$here/base-images.sh"

step "build the three service images"
quiet compose build
for service in sabilulungan hayu erk; do
    docker image inspect "layanan-daerah/$service:${IMAGE_TAG:-latest}" >/dev/null
done

step "start --profile all on fresh volumes"
teardown
quiet compose up -d --wait
"$python" "$here/smoke_checks.py" ready

step "first administrators, one write per service"
for service in sabilulungan hayu erk; do
    compose exec -T "$service" python -m "$service" create-account admin --role admin \
        --name "Administrator Uji" --password "$SMOKE_ADMIN_PASSWORD" >/dev/null
done
compose exec -T hayu python -m hayu create-account pemilik-uji --role business_owner \
    --name "Pemilik Uji" --password "$SMOKE_OWNER_PASSWORD" >/dev/null
"$python" "$here/smoke_checks.py" write "$work/state.json"

step "behind a simulated gateway"
"$python" "$here/smoke_checks.py" gateway

step "memory per container after this traffic"
docker stats --no-stream --format '{{.Name}} {{.MemUsage}}' | sed -n 's/^layanan-smoke-//p' | sort

step "audit-verify"
for service in sabilulungan hayu erk; do
    compose exec -T "$service" python -m "$service" audit-verify
done

step "backup: one dump per schema, uploads as tar"
for service in sabilulungan hayu erk; do
    compose exec -T postgres pg_dump -U postgres -d "$db" --schema="$service" --format=custom \
        >"$work/backup/$service.dump"
    compose exec -T "$service" tar -C /data/uploads -cf - . >"$work/backup/$service-uploads.tar"
done
ls -l "$work/backup" | sed -n 's/^.* \([0-9][0-9]*\) [A-Z][a-z][a-z] .* \(.*\)$/\2 \1 bytes/p'

step "restore onto fresh volumes"
quiet compose down -v
quiet compose up -d --wait
for service in sabilulungan hayu erk; do
    quiet compose stop "$service"
    compose exec -T postgres pg_restore -U postgres -d "$db" --clean --if-exists \
        <"$work/backup/$service.dump"
    # Unpacked by the image's own user (uid 10001), so every restored file is the service's.
    quiet compose run --rm --no-deps -T "$service" tar -C /data/uploads -xf - \
        <"$work/backup/$service-uploads.tar"
done
quiet compose up -d --wait
for service in sabilulungan hayu erk; do
    foreign="$(compose exec -T "$service" find /data/uploads ! -user 10001)"
    if [ -n "$foreign" ]; then
        echo "smoke: FAILED: $service uploads not owned by uid 10001: $foreign" >&2
        exit 1
    fi
    echo "smoke: ok: $service: restored uploads belong to uid 10001"
done
"$python" "$here/smoke_checks.py" restored "$work/state.json"
for service in sabilulungan hayu erk; do
    compose exec -T "$service" python -m "$service" audit-verify
done

step "tear down"
if [ "${SMOKE_KEEP:-0}" = 1 ]; then
    echo "smoke: stack left running (SMOKE_KEEP=1); stop it with: $compose_bin -p layanan-smoke down -v"
else
    teardown
fi
echo "smoke: all checks passed; wall time $(($(date +%s) - started)) s"
