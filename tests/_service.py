"""Helpers for the service tests: a real ``midian serve`` on a free loopback port, and a throwaway PostgreSQL.

:class:`Server` runs ``python -m scanner serve`` as a subprocess with its own data directory and
``MIDIAN_*`` settings, waits for ``/readyz`` and can stop it gracefully (SIGTERM) or kill it
(SIGKILL). :func:`postgres_cluster` starts a PostgreSQL server from the system's packages in a
temporary directory as a non-root user, on a free port, or says why it cannot.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from service.auth import KeyStore

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_key(data_dir: Path, name: str, role: str = "scan") -> str:
    """A new API key in ``data_dir`` (the same store ``midian keys create`` writes)."""
    return KeyStore(data_dir / "keys.json").create(name, role)


def cli_key(data_dir: Path, name: str, role: str) -> str:
    """A new API key made by the real command, ``midian keys create``."""
    env = _env(data_dir, {})
    out = subprocess.run([sys.executable, "-m", "scanner", "keys", "create", "--name", name, "--role", role],
                         capture_output=True, env=env, cwd=REPO, timeout=120, check=True)
    return out.stdout.decode().strip()


def _env(data_dir: Path, settings: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIDIAN_")}
    env.update({"MIDIAN_DATA_DIR": str(data_dir), "PYTHONUNBUFFERED": "1"})
    env.update(settings)
    return env


class Server:
    """``midian serve`` on 127.0.0.1 in a subprocess."""

    def __init__(self, data_dir: Path, settings: dict[str, str] | None = None, workers: int = 2) -> None:
        self.data_dir = Path(data_dir)
        self.settings = dict(settings or {})
        self.workers = workers
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = self.data_dir.parent / f"{self.data_dir.name}-server.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 120.0) -> Server:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        log = open(self.log_path, "ab")  # noqa: SIM115 - the server writes to it until it stops
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "scanner", "serve", "--host", "127.0.0.1", "--port", str(self.port),
             "--workers", str(self.workers), "--log-level", "warning"],
            env=_env(self.data_dir, self.settings), cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited with {self.proc.returncode}:\n{self.log()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return self
            time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"the server was not ready within {timeout} s:\n{self.log()}")

    def client(self, key: str | None = None, timeout: float = 60.0) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=timeout)

    def kill(self) -> None:
        """SIGKILL: no chance to clean up."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(30)

    def stop(self, timeout: float = 60.0) -> int:
        """SIGTERM and wait; returns the exit code."""
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        return int(self.proc.returncode)

    def worker_pids(self) -> list[int]:
        """The scanner worker processes (children of the server)."""
        import psutil

        assert self.proc is not None
        return [c.pid for c in psutil.Process(self.proc.pid).children() if c.is_running()]

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-5000:]
        except OSError:
            return ""


def wait_for_job(client: httpx.Client, job_id: str, timeout: float = 240.0, until: tuple[str, ...] = ("done", "failed", "cancelled")) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        view = client.get(f"/v1/jobs/{job_id}").json()
        if view["state"] in until:
            return view  # type: ignore[no-any-return]
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} not finished within {timeout} s: {view}")


def all_results(client: httpx.Client, job_id: str, limit: int = 50, **params: str) -> list[dict]:
    """Every result of a job, following the cursor."""
    items: list[dict] = []
    cursor = None
    while True:
        query = {"limit": str(limit), **params, **({"cursor": cursor} if cursor else {})}
        page = client.get(f"/v1/jobs/{job_id}/results", params=query)
        assert page.status_code == 200, page.text
        body = page.json()
        items.extend(body["items"])
        cursor = body["next"]
        if cursor is None:
            return items


# --- PostgreSQL -----------------------------------------------------------------------------------
def _pg_bindir() -> str | None:
    found = shutil.which("pg_ctl") and shutil.which("initdb")
    if found:
        return os.path.dirname(os.path.realpath(shutil.which("initdb")))  # type: ignore[arg-type]
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return os.path.dirname(candidates[-1]) if candidates else None


def _install_postgres() -> None:
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    with contextlib.suppress(subprocess.SubprocessError, OSError):
        if subprocess.run(["apt-get", "install", "-y", "-q", "postgresql"], env=env, capture_output=True,
                          timeout=600).returncode != 0:
            subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True, timeout=300)
            subprocess.run(["apt-get", "install", "-y", "-q", "postgresql"], env=env, capture_output=True, timeout=600)


@contextlib.contextmanager
def postgres_cluster() -> Iterator[str]:
    """A PostgreSQL server for this test session; yields an admin URL. Raises RuntimeError with the reason
    when it cannot be started (the caller skips)."""
    try:
        import psycopg  # noqa: F401
    except ImportError as exc:
        raise RuntimeError("psycopg is not installed (pip install 'psycopg[binary]', the `postgres` extra)") from exc
    bindir = _pg_bindir()
    if bindir is None:
        _install_postgres()
        bindir = _pg_bindir()
    if bindir is None:
        raise RuntimeError("no PostgreSQL server binaries (initdb, pg_ctl) and `apt-get install postgresql` failed")
    run_as: list[str] = []
    owner = None
    if os.geteuid() == 0:  # postgres refuses to run as root: use the packages' `postgres` user
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError as exc:
            raise RuntimeError("running as root and there is no `postgres` user to run the server as") from exc
        if not shutil.which("runuser"):
            raise RuntimeError("running as root without `runuser` to start the server as `postgres`")
        run_as = ["runuser", "-u", "postgres", "--"]
    base = Path(tempfile.mkdtemp(prefix="midian-pg-"))
    if owner is not None:
        os.chown(base, owner.pw_uid, owner.pw_gid)
    data, port = base / "data", free_port()
    try:
        subprocess.run([*run_as, f"{bindir}/initdb", "-D", str(data), "-A", "trust", "-U", "midian", "-E", "UTF8",
                        "--no-sync"], capture_output=True, timeout=120, check=True)
        subprocess.run([*run_as, f"{bindir}/pg_ctl", "-D", str(data), "-l", str(base / "log"), "-w", "-t", "60",
                        "-o", f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off", "start"],
                       capture_output=True, timeout=120, check=True)
    except (subprocess.SubprocessError, OSError) as exc:
        detail = getattr(exc, "stderr", b"") or b""
        shutil.rmtree(base, ignore_errors=True)
        raise RuntimeError(f"could not start PostgreSQL from {bindir}: {exc} {detail.decode(errors='replace')[-500:]}") from exc
    try:
        yield f"postgresql+psycopg://midian@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*run_as, f"{bindir}/pg_ctl", "-D", str(data), "-m", "immediate", "stop"], capture_output=True,
                       timeout=60)
        shutil.rmtree(base, ignore_errors=True)


def create_database(admin_url: str, name: str) -> str:
    """A fresh database on the cluster; returns its URL."""
    import psycopg

    with psycopg.connect(admin_url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return admin_url.rsplit("/", 1)[0] + f"/{name}"
