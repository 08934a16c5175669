"""Before a service starts: can it log in to its database? Exit 0 if so, a clear message if not.

    python deploy/check_database.py <service>

Reads <SERVICE>_DATABASE_URL (and <SERVICE>_MIGRATION_DATABASE_URL when set). SQLite URLs are not
checked. A server that is still starting is waited for (up to DATABASE_WAIT_SECONDS, default 60); a
refused password or an unknown role stops at once with exit code 78 (EX_CONFIG) and says which
variable and which command fix it, instead of a traceback in a restart loop.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from urllib.parse import unquote, urlsplit

EX_CONFIG = 78
EX_UNAVAILABLE = 69


def _fix_hint(service: str, role: str) -> str:
    prefix = service.upper()
    return (
        f"The password of database role '{role}' does not match {prefix}_DB_PASSWORD in .env.\n"
        "PostgreSQL sets each role's password once, when its data volume is first created "
        "(deploy/postgres/init.sh);\nit is not read again. To enable a service later or after "
        "changing the password in .env, run:\n"
        f"    deploy/postgres/enable-service.sh {service}\n"
        f"then `docker compose up -d {service}` (deploy/README.md, 'Enabling a service later')."
    )


async def _try(url: str) -> None:
    import asyncpg  # type: ignore[import-untyped]

    connection = await asyncpg.connect(url, timeout=5)
    await connection.close()


def check(service: str, variable: str, url: str, wait_seconds: float) -> int:
    import asyncpg

    parts = urlsplit(url)
    scheme = parts.scheme.split("+", 1)[0]
    if scheme not in ("postgresql", "postgres"):
        return 0
    plain = url.replace(parts.scheme + "://", "postgresql://", 1)
    role = unquote(parts.username or "")
    target = f"{parts.hostname}:{parts.port or 5432}{parts.path}"
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            asyncio.run(_try(plain))
            return 0
        except (asyncpg.InvalidPasswordError, asyncpg.InvalidAuthorizationSpecificationError) as e:
            print(
                f"check_database: {variable}: PostgreSQL at {target} refused role '{role}': {e}\n"
                + _fix_hint(service, role),
                file=sys.stderr,
            )
            return EX_CONFIG
        except asyncpg.InvalidCatalogNameError as e:
            print(f"check_database: {variable}: {e} (POSTGRES_DB in .env?)", file=sys.stderr)
            return EX_CONFIG
        except (TimeoutError, OSError, asyncpg.CannotConnectNowError) as e:
            if time.monotonic() > deadline:
                print(
                    f"check_database: {variable}: PostgreSQL at {target} is not reachable: {e}",
                    file=sys.stderr,
                )
                return EX_UNAVAILABLE
            time.sleep(1)


def main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0] not in ("sabilulungan", "hayu", "erk"):
        print(__doc__, file=sys.stderr)
        return 64
    service = argv[0]
    wait = float(os.environ.get("DATABASE_WAIT_SECONDS", "60"))
    for suffix in ("DATABASE_URL", "MIGRATION_DATABASE_URL"):
        variable = f"{service.upper()}_{suffix}"
        url = os.environ.get(variable, "")
        if url:
            status = check(service, variable, url, wait)
            if status:
                return status
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
