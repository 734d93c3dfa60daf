"""A throw-away PostgreSQL server for the tests and the benchmarks: `initdb` and `pg_ctl` in a
temporary folder, on a free port of the loopback address, gone when stopped.

The binaries are looked for in `$TOPCONTACT_TEST_PG_BIN`, on the `PATH`, then in
Debian's `/usr/lib/postgresql/<version>/bin` (`apt-get install postgresql`).
PostgreSQL refuses to run as root: as root the server runs as the `postgres`
user (or `nobody`). `$TOPCONTACT_TEST_POSTGRES_DSN` names an existing server
to use instead (a database the tests may create schemas in). When none of this
works, `PostgresUnavailable` says why, and the tests skip with that reason.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

BIN_ENV = "TOPCONTACT_TEST_PG_BIN"
DSN_ENV = "TOPCONTACT_TEST_POSTGRES_DSN"
DATABASE = "topcontact"
USER = "topcontact"


class PostgresUnavailable(Exception):
    """No PostgreSQL server could be started or reached; the message says why."""


def find_bindir() -> Path | None:
    """The folder with `initdb`, `pg_ctl` and `postgres`, or None."""
    candidates: list[Path] = []
    if os.environ.get(BIN_ENV):
        candidates.append(Path(os.environ[BIN_ENV]))
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)

    def version(path: Path) -> tuple[int, ...]:
        return tuple(int(p) for p in re.findall(r"\d+", path.parent.name))

    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=version, reverse=True)
    for folder in candidates:
        if all((folder / name).is_file() for name in ("initdb", "pg_ctl", "postgres")):
            return folder
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _unprivileged() -> tuple[int, int] | None:
    """As root: the uid and gid the server runs as (PostgreSQL refuses root)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        return entry.pw_uid, entry.pw_gid
    raise PostgresUnavailable("running as root and there is no 'postgres' or 'nobody' user")


def _as(ids: tuple[int, int] | None) -> Callable[[], None] | None:
    if ids is None:
        return None
    uid, gid = ids

    def drop() -> None:
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)

    return drop


@dataclass
class PostgresServer:
    """A running server (started here, or an existing one named by `$TOPCONTACT_TEST_POSTGRES_DSN`)."""

    host: str
    port: int
    root: Path | None = None
    bindir: Path | None = None
    runs_as: tuple[int, int] | None = None
    existing_dsn: str | None = None

    def dsn(self, dbname: str = DATABASE) -> str:
        if self.existing_dsn is not None:
            return self.existing_dsn
        return f"host={self.host} port={self.port} dbname={dbname} user={USER} sslmode=disable"

    def toml(self, schema: str) -> str:
        """A `[postgresql]` section for a configuration file of the service."""
        return (
            f'[postgresql]\ndsn = "{self.dsn()}"\nschema_name = "{schema}"\nsslmode = "disable"\n'
        )

    #: False: fsync off, for tests (their subject is not the disk); True for the benchmarks.
    durable: bool = False

    @classmethod
    def start(cls, *, durable: bool = False) -> PostgresServer:
        existing = os.environ.get(DSN_ENV)
        if existing:
            return cls(host="", port=0, existing_dsn=existing)
        bindir = find_bindir()
        if bindir is None:
            raise PostgresUnavailable(
                "no initdb/pg_ctl/postgres found (looked in $TOPCONTACT_TEST_PG_BIN, the PATH and "
                "/usr/lib/postgresql/*/bin); install PostgreSQL (apt-get install postgresql) "
                "or set $TOPCONTACT_TEST_POSTGRES_DSN"
            )
        runs_as = _unprivileged()
        root = Path(tempfile.mkdtemp(prefix="topcontact-pg-"))
        if runs_as is not None:
            os.chown(root, *runs_as)
        server = cls(
            host="127.0.0.1", port=0, root=root, bindir=bindir, runs_as=runs_as, durable=durable
        )
        try:
            server._init()
            server._launch()
            server._create_database()
        except BaseException:
            server.stop()
            raise
        return server

    def _run(self, *args: str, timeout: float = 60) -> None:
        assert self.bindir is not None
        result = subprocess.run(
            [str(self.bindir / args[0]), *args[1:]],
            capture_output=True,
            timeout=timeout,
            check=False,
            preexec_fn=_as(self.runs_as),  # the tests start no threads that fork here
            cwd=self.root,
        )
        if result.returncode != 0:
            output = (result.stdout + result.stderr).decode(errors="replace").strip()
            raise PostgresUnavailable(f"{args[0]} failed: {output[-800:]}")

    def _init(self) -> None:
        assert self.root is not None
        self._run(
            "initdb",
            "-D",
            str(self.root / "data"),
            "-U",
            USER,
            "--auth=trust",
            "--encoding=UTF8",
            "--no-locale",
            "--no-sync",
        )

    def _launch(self) -> None:
        assert self.root is not None
        problem: PostgresUnavailable | None = None
        for _ in range(3):  # a port taken between choosing and binding: choose again
            self.port = _free_port()
            options = " ".join(
                [
                    f"-p {self.port}",
                    f"-k {self.root}",
                    "-c listen_addresses=127.0.0.1",
                    # A test server: its durability is not what the tests are about.
                    *([] if self.durable else ["-c fsync=off", "-c full_page_writes=off"]),
                    "-c max_connections=300",
                ]
            )
            try:
                self._run(
                    "pg_ctl",
                    "-D",
                    str(self.root / "data"),
                    "-l",
                    str(self.root / "server.log"),
                    "-o",
                    options,
                    "-w",
                    "-t",
                    "60",
                    "start",
                    timeout=90,
                )
                return
            except PostgresUnavailable as exc:
                log = self.root / "server.log"
                detail = log.read_text(errors="replace")[-800:] if log.exists() else ""
                problem = PostgresUnavailable(f"{exc} {detail}".strip())
        assert problem is not None
        raise problem

    def _create_database(self) -> None:
        import psycopg

        with psycopg.connect(self.dsn("postgres"), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {DATABASE}")

    def stop(self) -> None:
        if self.root is None:
            return
        if (self.root / "data" / "postmaster.pid").exists():
            with contextlib.suppress(PostgresUnavailable, subprocess.TimeoutExpired):
                self._run("pg_ctl", "-D", str(self.root / "data"), "-m", "immediate", "stop")
        shutil.rmtree(self.root, ignore_errors=True)
        self.root = None

    def drop_schema(self, schema: str) -> None:
        import psycopg

        with psycopg.connect(self.dsn(), autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
