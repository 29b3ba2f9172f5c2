"""A throw-away PostgreSQL cluster (initdb + pg_ctl in a temp folder) for tests and benchmarks.

initdb and postgres refuse to run as root, so under root (CI, this machine) the cluster belongs to
the ``postgres`` system user (else ``nobody``) and its commands run through ``runuser``. Host
connections need a password (scram-sha-256), so the tests exercise the real credential route
(``$CORGAN_PG_PASSWORD``); the Unix socket in the temp folder is trusted for setup.
"""
from __future__ import annotations

import contextlib
import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

USER = "corgan"


def find_bin() -> Path | None:
    """The newest folder holding initdb, pg_ctl and postgres (Debian's /usr/lib/postgresql/N/bin first)."""
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda d: int(Path(d).parent.name)
                  if Path(d).parent.name.isdigit() else 0, reverse=True)
    which = shutil.which("initdb")
    if which:
        dirs.append(str(Path(which).resolve().parent))
    for d in dirs:
        if all((Path(d) / b).exists() for b in ("initdb", "pg_ctl", "postgres")):
            return Path(d)
    return None


def _free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    folder: Path
    port: int
    password: str
    bin: Path
    owner: str | None

    def url(self, db: str = "postgres", schema: str | None = None) -> str:
        """A password-less URL (the password travels in $CORGAN_PG_PASSWORD)."""
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{db}" + (f"?schema={schema}" if schema else "")

    def psql(self, sql: str, db: str = "postgres") -> str:
        """Run ``sql`` over the trusted socket (setup only), returning psql's output."""
        cmd = [str(self.bin / "psql"), "-h", str(self.folder), "-p", str(self.port), "-U", USER, "-d", db,
               "-v", "ON_ERROR_STOP=1", "-At", "-c", sql]
        return subprocess.run(self._as_owner(cmd), check=True, capture_output=True, text=True).stdout

    def _as_owner(self, cmd: list[str]) -> list[str]:
        return ["runuser", "-u", self.owner, "--", *cmd] if self.owner else cmd


@contextlib.contextmanager
def cluster():
    """Start a cluster; yield its :class:`Server`; stop it and delete its folder."""
    bindir = find_bin()
    if bindir is None:
        raise FileNotFoundError("no PostgreSQL server binaries (initdb, pg_ctl, postgres)")
    owner = None
    if os.geteuid() == 0:
        owner = next((u for u in ("postgres", "nobody") if _user_exists(u)), None)
        if owner is None:
            raise RuntimeError("running as root and neither the postgres nor the nobody user exists")
    folder = Path(tempfile.mkdtemp(prefix="corgan-pg-"))
    password = secrets.token_urlsafe(16)
    pwfile = folder / "pw"
    pwfile.write_text(password + "\n")
    if owner:
        info = pwd.getpwnam(owner)
        os.chown(folder, info.pw_uid, info.pw_gid)
        os.chown(pwfile, info.pw_uid, info.pw_gid)
    folder.chmod(0o700)
    server = Server(folder, _free_port(), password, bindir, owner)
    data = folder / "data"
    run = lambda cmd: subprocess.run(server._as_owner(cmd), check=True, capture_output=True, text=True)  # noqa: E731
    try:
        run([str(bindir / "initdb"), "-D", str(data), "-U", USER, "--pwfile", str(pwfile), "-E", "UTF8",
             "--no-locale", "--auth-local=trust", "--auth-host=scram-sha-256"])
        opts = (f"-p {server.port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off "
                f"-c synchronous_commit=off -c full_page_writes=off -c shared_buffers=64MB")
        run([str(bindir / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(folder / "log"), "-w", "-t", "60", "start"])
        yield server
    except subprocess.CalledProcessError as e:
        log = (folder / "log").read_text() if (folder / "log").exists() else ""
        raise RuntimeError(f"PostgreSQL failed to start: {e.stderr or e.stdout} {log[-2000:]}") from None
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run(server._as_owner([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
                           capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False
