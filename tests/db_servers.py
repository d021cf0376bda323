"""Real database servers for the tests: a PostgreSQL and a MariaDB started in temporary
directories on free ports, password authentication on TCP, stopped at the end.

PostgreSQL needs its server binaries (``/usr/lib/postgresql/<v>/bin``, Debian's
``postgresql`` package); MariaDB needs ``mariadbd`` (``mariadb-server``). Where one is
missing, ``start_*`` raises :class:`ServerUnavailable` and the tests skip with its reason.
``initdb`` refuses to run as root, so as root the cluster belongs to the ``postgres``
user (created by the Debian package) and its commands run through ``runuser``.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterator

PASSWORD = "ml-secret-1"
USER = "mluser"
DATABASE = "mldata"


class ServerUnavailable(Exception):
    """The server cannot be started here (the reason is the message)."""


@dataclass
class DatabaseServer:
    """A running server: ``url`` has no password (the data source supplies it)."""

    scheme: str
    port: int
    connect: Callable[[], Any]  # a DBAPI connection as USER to DATABASE, autocommit

    @property
    def url(self) -> str:
        return f"{self.scheme}://{USER}@127.0.0.1:{self.port}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _poll(check: Callable[[], bool], what: str, deadline_seconds: float = 60.0) -> None:
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise ServerUnavailable(f"{what} did not become ready within {deadline_seconds:.0f} s")


def _run(cmd: list[str], user: str | None) -> None:
    if user is not None:
        cmd = ["runuser", "-u", user, "--", *cmd]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise ServerUnavailable(f"{' '.join(cmd)} failed: {done.stderr.strip()[-500:]}")


@contextmanager
def start_postgres() -> Iterator[DatabaseServer]:
    """initdb + pg_ctl in a temporary directory; USER/PASSWORD owns DATABASE."""
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not bins:
        raise ServerUnavailable("PostgreSQL server binaries not found (apt-get install postgresql)")
    bindir = os.path.dirname(bins[-1])
    user = None
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            raise ServerUnavailable("running as root and there is no 'postgres' user for initdb") from None
        user = "postgres"
    root = tempfile.mkdtemp(prefix="emulator-pg-")
    if user is not None:
        os.chown(root, owner.pw_uid, owner.pw_gid)
    data = os.path.join(root, "data")
    pwfile = os.path.join(root, "pw")
    with open(pwfile, "w") as f:
        f.write(PASSWORD)
    if user is not None:
        os.chown(pwfile, owner.pw_uid, owner.pw_gid)
    port = free_port()
    try:
        _run([f"{bindir}/initdb", "-D", data, "-U", USER, f"--pwfile={pwfile}", "--auth-host=scram-sha-256",
              "--auth-local=trust", "-E", "UTF8", "--locale=C"], user)
        _run([f"{bindir}/pg_ctl", "-D", data, "-l", os.path.join(root, "log"), "-w", "-t", "60", "-o",
              f"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={root} -c fsync=off",
              "start"], user)
        import psycopg

        def connect() -> Any:
            return psycopg.connect(host="127.0.0.1", port=port, user=USER, password=PASSWORD, dbname=DATABASE,
                                   autocommit=True)

        admin = psycopg.connect(host="127.0.0.1", port=port, user=USER, password=PASSWORD, dbname="postgres",
                                autocommit=True)
        admin.execute(f"CREATE DATABASE {DATABASE}")
        admin.close()
        yield DatabaseServer("postgresql", port, connect)
    finally:
        if os.path.exists(os.path.join(data, "postmaster.pid")):
            subprocess.run(([] if user is None else ["runuser", "-u", user, "--"])
                           + [f"{bindir}/pg_ctl", "-D", data, "-m", "immediate", "-w", "stop"], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def start_mariadb() -> Iterator[DatabaseServer]:
    """mariadb-install-db + mariadbd in a temporary directory; USER/PASSWORD owns DATABASE."""
    server = shutil.which("mariadbd") or shutil.which("mysqld") or (
        "/usr/sbin/mariadbd" if os.path.exists("/usr/sbin/mariadbd") else None)
    install = shutil.which("mariadb-install-db") or shutil.which("mysql_install_db")
    if not server or not install:
        raise ServerUnavailable("MariaDB server not installed (apt-get install mariadb-server)")
    root = tempfile.mkdtemp(prefix="emulator-mariadb-")
    data = os.path.join(root, "data")
    sock = os.path.join(root, "mysqld.sock")
    port = free_port()
    run_as = ["--user=root"] if os.geteuid() == 0 else []
    _run([install, "--no-defaults", f"--datadir={data}", "--auth-root-authentication-method=normal",
          "--skip-test-db", *run_as], None)
    log = open(os.path.join(root, "log"), "w")
    process = subprocess.Popen([server, "--no-defaults", f"--datadir={data}", f"--socket={sock}", f"--port={port}",
                                "--bind-address=127.0.0.1", f"--pid-file={root}/mysqld.pid", "--skip-log-bin",
                                "--innodb-buffer-pool-size=16M", *run_as], stdout=log, stderr=subprocess.STDOUT)
    try:
        import pymysql

        def root_ready() -> bool:
            if process.poll() is not None:
                raise ServerUnavailable(f"mariadbd exited: {open(os.path.join(root, 'log')).read()[-500:]}")
            try:
                pymysql.connect(unix_socket=sock, user="root").close()
                return True
            except pymysql.err.OperationalError:
                return False

        _poll(root_ready, "mariadbd")
        admin = pymysql.connect(unix_socket=sock, user="root", autocommit=True)
        with admin.cursor() as cur:
            cur.execute(f"CREATE DATABASE {DATABASE}")
            cur.execute(f"CREATE USER '{USER}'@'%' IDENTIFIED BY '{PASSWORD}'")
            cur.execute(f"GRANT ALL ON {DATABASE}.* TO '{USER}'@'%'")
        admin.close()

        def connect() -> Any:
            return pymysql.connect(host="127.0.0.1", port=port, user=USER, password=PASSWORD, database=DATABASE,
                                   autocommit=True)

        yield DatabaseServer("mysql", port, connect)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        shutil.rmtree(root, ignore_errors=True)
