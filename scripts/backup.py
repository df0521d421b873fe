"""`make backup` and `make restore`: the PostgreSQL database of DATABASE_URL, dumped and put back.

    make backup                                   # data/backups/rarederm-20261202T101500Z.dump
    BACKUP_COPY='aws s3 cp {} s3://bucket/rarederm/' make backup    # then off the machine
    make restore FILE=data/backups/rarederm-20261202T101500Z.dump

A backup is `pg_dump --format=custom` (compressed; the whole database: cases,
their field history, events, citations, users), written under a temporary
name, read back by `pg_restore --list` and only then given its final name, so
a file with a final name is a whole archive. BACKUP_COPY, when set, is run
with `{}` replaced by the file: any object-storage client (aws, rclone, gsutil,
mc) copies it off the machine.

A restore replaces the database: it creates it if it is gone (dropped, a new
server), or else drops what the archive holds and loads it again, in one
transaction that stops at the first error. Stop web, worker and beat first.

Only PostgreSQL's own client programs are used (pg_dump, pg_restore, psql,
createdb), from the PATH; they must be of the server's major version or newer.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shlex
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit


def fail(message: str) -> None:
    sys.exit(f"make backup/restore: {message}")


def database_url() -> str:
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url:
        fail("DATABASE_URL is not set (postgres://user:password@host:5432/rarederm).")
    if urlsplit(url).scheme not in ("postgres", "postgresql"):
        fail(f"DATABASE_URL is not PostgreSQL: for SQLite, copy the file ({url}).")
    return url


def run(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(args, check=True, **kwargs)  # noqa: S603 (our own argument lists)


def backup(directory: Path) -> Path:
    url = database_url()
    directory.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    final = directory / f"rarederm-{stamp}.dump"
    partial = final.with_suffix(".dump.partial")
    run("pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--file={partial}", url)
    run("pg_restore", "--list", str(partial), stdout=subprocess.DEVNULL)
    partial.rename(final)
    print(f"make backup: {final} ({final.stat().st_size:,} bytes)")
    copy = os.environ.get("BACKUP_COPY", "").strip()
    if copy:
        command = copy.replace("{}", shlex.quote(str(final)))
        print(f"make backup: copying off the machine: {command}")
        run("sh", "-c", command)
    return final


def _maintenance_url(url: str) -> tuple[str, str]:
    """(the URL of the server's `postgres` database, the name of the database in `url`)."""
    parts = urlsplit(url)
    name = unquote(parts.path.lstrip("/"))
    if not name:
        fail("DATABASE_URL names no database.")
    return urlunsplit(parts._replace(path="/postgres")), name


def _exists(maintenance: str, name: str) -> bool:
    found = run(
        "psql",
        maintenance,
        "--no-psqlrc",
        "--tuples-only",
        "--no-align",
        "--set",
        f"name={name}",
        input="SELECT 1 FROM pg_database WHERE datname = :'name';\n",
        capture_output=True,
        text=True,
    )
    return found.stdout.strip() == "1"


def restore(file: str) -> None:
    url = database_url()
    if not file:
        fail("say which backup: make restore FILE=data/backups/rarederm-....dump")
    archive = Path(file)
    if not archive.is_file():
        fail(f"no such file: {archive}")
    run("pg_restore", "--list", str(archive), stdout=subprocess.DEVNULL)
    maintenance, name = _maintenance_url(url)
    options = ["--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction"]
    if _exists(maintenance, name):
        options += ["--clean", "--if-exists"]
    else:
        run("createdb", f"--maintenance-db={maintenance}", name)
    run("pg_restore", *options, f"--dbname={url}", str(archive))
    print(f"make restore: {archive} restored into {name}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    backup_parser = commands.add_parser("backup")
    backup_parser.add_argument("--dir", default="data/backups", type=Path)
    restore_parser = commands.add_parser("restore")
    restore_parser.add_argument("file", nargs="?", default="")
    args = parser.parse_args(argv)
    try:
        if args.command == "backup":
            backup(args.dir)
        else:
            restore(args.file)
    except FileNotFoundError as exc:
        fail(f"{exc.filename} is not installed (apt-get install postgresql-client).")
    except subprocess.CalledProcessError as exc:
        fail(f"{Path(exc.cmd[0]).name} failed (exit status {exc.returncode}).")


if __name__ == "__main__":
    main()
