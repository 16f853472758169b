"""pg_dump and pg_restore with the documented ``postgresql+psycopg://`` URL.

libpq does not read SQLAlchemy's URL (the ``+psycopg`` driver name), so the URL is
taken apart: host, port, user and database go in libpq's environment variables, the
password in ``PGPASSWORD``. Nothing secret reaches the command line (visible in ``ps``)
or an error message.
"""

from __future__ import annotations

import os
import subprocess

from sqlalchemy import make_url

from .manifest import BackupError

#: SQLAlchemy URL query options that libpq reads from the environment.
_QUERY_ENV = {"sslmode": "PGSSLMODE", "sslrootcert": "PGSSLROOTCERT", "sslcert": "PGSSLCERT",
              "sslkey": "PGSSLKEY", "connect_timeout": "PGCONNECT_TIMEOUT", "application_name": "PGAPPNAME"}


def libpq_environment(database_url: str) -> dict[str, str]:
    """libpq's variables for ``database_url`` (``postgresql[+driver]://user:pw@host:port/db``)."""
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        raise BackupError("Only PostgreSQL databases are dumped with pg_dump.")
    if not url.database:
        raise BackupError("TRACKER_DATABASE_URL names no database.")
    env = {"PGDATABASE": url.database}
    for name, value in (("PGHOST", url.host), ("PGPORT", url.port), ("PGUSER", url.username),
                        ("PGPASSWORD", url.password)):
        if value is not None and str(value) != "":
            env[name] = str(value)
    for option, name in _QUERY_ENV.items():
        given = url.query.get(option)
        if isinstance(given, str):
            env[name] = given
    return env


def run_pg_tool(argv: list[str], database_url: str, *, timeout: float = 3600) -> str:
    """Run ``pg_dump``/``pg_restore`` against ``database_url``; its stdout, or :class:`BackupError`."""
    env = libpq_environment(database_url)
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False,
                              env={**os.environ, **env})
    except FileNotFoundError as e:
        raise BackupError(f"{argv[0]} is not installed; it is needed for PostgreSQL backups.") from e
    if proc.returncode != 0:
        message = proc.stderr.strip()[:500]
        if env.get("PGPASSWORD"):
            message = message.replace(env["PGPASSWORD"], "***")
        raise BackupError(f"{argv[0]} failed: {message}")
    return proc.stdout


def dump(database_url: str, target: str) -> None:
    run_pg_tool(["pg_dump", "--format=custom", "--no-owner", f"--file={target}"], database_url)


def check_archive(path: str, database_url: str) -> None:
    """pg_restore can read every entry of the dump (checked before anything is replaced)."""
    run_pg_tool(["pg_restore", "--list", path], database_url)


def restore_dump(path: str, database_url: str) -> None:
    """Replace the database's contents with the dump in one transaction: all or nothing."""
    dbname = libpq_environment(database_url)["PGDATABASE"]
    run_pg_tool(["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction", "--exit-on-error",
                 f"--dbname={dbname}", path], database_url)
