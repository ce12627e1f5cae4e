"""PostgreSQL from Debian's packages: the `<version> main` cluster, managed with pg_ctlcluster."""

from __future__ import annotations

import os
import pwd
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from tierwatch.core.services.jvm import Echo
from tierwatch.core.services.layout import HOST, Layout
from tierwatch.core.services.process import ServiceError, port_in_use, rss_mb

PORT = 5432
ROLE = "tierwatch"
PASSWORD = "tierwatch"  # nosec B105 # the local development cluster's documented password (services/README.md)
DATABASES = ("tierwatch", "tierwatch_test")
URL = f"postgresql+psycopg://{ROLE}:{PASSWORD}@{HOST}:{PORT}/{DATABASES[0]}"

# Idempotent: psql's \gexec runs the CREATE only when the SELECT returns it. CREATEDB lets tests
# make throw-away databases. The password is re-set each time so it is always the documented one.
PROVISION_SQL = (
    f"""\
SELECT format('CREATE ROLE %I LOGIN', '{ROLE}') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{ROLE}') \\gexec
ALTER ROLE {ROLE} LOGIN CREATEDB PASSWORD '{PASSWORD}';
"""  # nosec B608 # constants of this module, no outside input
    + "".join(
        f"SELECT 'CREATE DATABASE {db} OWNER {ROLE}' WHERE NOT EXISTS "  # nosec B608 # constants, as above
        f"(SELECT FROM pg_database WHERE datname = '{db}') \\gexec\n"
        for db in DATABASES
    )
)


# Written to the cluster's conf.d before each start. Durability is untouched (fsync and
# synchronous_commit stay on); these only change how much work each write costs. Measured with
# bench/bench_pipeline.py: with Debian's defaults (128 MB buffers, 1 GB of WAL between
# checkpoints) a throughput run forced a checkpoint every few seconds, each one making the next
# write of every page a full-page WAL image; JIT compiles large UPDATEs, which costs more than it
# saves on a write path of small statements.
SERVER_SETTINGS = {
    "shared_buffers": "512MB",
    "max_wal_size": "4GB",
    "checkpoint_timeout": "15min",
    "checkpoint_completion_target": "0.9",
    "jit": "off",
    # Two intake workers can deadlock when a campaign merge meets the other's identifier upsert;
    # the loser is retried at once (monitoring/worker.py), so find the cycle in 0.1 s, not 1 s.
    "deadlock_timeout": "100ms",
}


@dataclass(frozen=True)
class Cluster:
    version: str
    name: str
    port: int
    online: bool
    data_dir: Path
    log_file: str


class PostgresService:
    name = "postgres"
    ports: tuple[int, ...] = (PORT,)
    ready_timeout = 60.0

    def __init__(self, layout: Layout) -> None:
        self.layout = layout

    def prepare(self, echo: Echo) -> None:
        if shutil.which("pg_ctlcluster"):
            return
        if os.geteuid() != 0:
            raise ServiceError("PostgreSQL is not installed; as root run `apt-get install -y postgresql`")
        echo(f"{self.name:14} installing the Debian postgresql package (first start only) ...")
        install = ["apt-get", "install", "-y", "-q", "postgresql"]
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        if subprocess.run(install, capture_output=True, env=env).returncode != 0:
            subprocess.run(["apt-get", "update", "-q"], capture_output=True, env=env)
            done = subprocess.run(install, capture_output=True, text=True, env=env)
            if done.returncode != 0:
                raise ServiceError(f"apt-get install postgresql failed: {done.stderr.strip()[-300:]}")

    def cluster(self) -> Cluster | None:
        """The cluster on port 5432, else the first one `pg_lsclusters` lists (Debian's `15 main`)."""
        if not shutil.which("pg_lsclusters"):
            return None
        listing = subprocess.run(["pg_lsclusters", "--no-header"], capture_output=True, text=True).stdout
        clusters = []
        for line in listing.splitlines():
            fields = line.split()
            if len(fields) >= 7:
                clusters.append(Cluster(fields[0], fields[1], int(fields[2]), fields[3].startswith("online"),
                                        Path(fields[5]), fields[6]))
        return next((c for c in clusters if c.port == PORT), clusters[0] if clusters else None)

    def running_pid(self) -> int | None:
        found = self.cluster()
        if found is None or not found.online:
            return None
        try:
            return int((found.data_dir / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def busy_ports(self) -> list[int]:
        return [PORT] if port_in_use(PORT) else []

    def launch(self) -> None:
        found = self._require_cluster()
        self._write_settings(found)
        self._ctl(found, "start")

    def _write_settings(self, found: Cluster) -> None:
        conf_d = Path("/etc/postgresql") / found.version / found.name / "conf.d"
        text = "# written by `tierwatch services up` (core/services/postgres.py)\n" + "".join(
            f"{name} = '{value}'\n" for name, value in SERVER_SETTINGS.items()
        )
        try:
            target = conf_d / "tierwatch.conf"
            if not target.exists() or target.read_text() != text:
                target.write_text(text)
        except OSError:
            pass  # not root: the cluster keeps its own settings, which only costs speed

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while subprocess.run(["pg_isready", "-q", "-h", HOST, "-p", str(PORT)]).returncode != 0:
            if time.monotonic() > deadline:
                raise ServiceError(f"postgres not accepting connections on {HOST}:{PORT} after {timeout:.0f}s")
            time.sleep(0.25)
        self._provision()

    def stop(self) -> None:
        found = self.cluster()
        if found is not None and found.online:
            self._ctl(found, "stop", "-m", "fast")

    def endpoint(self) -> str:
        return f"{HOST}:{PORT}"

    @property
    def version(self) -> str:
        found = self.cluster()
        if found is None:
            return "not installed"
        done = subprocess.run([f"/usr/lib/postgresql/{found.version}/bin/postgres", "-V"],
                              capture_output=True, text=True)
        match = re.search(r"\(PostgreSQL\) (\S+)", done.stdout)
        return match.group(1) if match else found.version

    def status(self) -> dict[str, object]:
        found = self.cluster()
        pid = self.running_pid()
        return {
            "state": "running" if pid else ("stopped" if found else "not installed"),
            "pid": pid,
            "port": PORT,
            # postmaster plus its backends; shared buffers are counted once per process.
            "rss_mb": rss_mb(pid, include_children=True) if pid else None,
            "version": self.version,
            "log": found.log_file if found else None,
        }

    def _require_cluster(self) -> Cluster:
        found = self.cluster()
        if found is None:
            raise ServiceError("no PostgreSQL cluster found; create one with `pg_createcluster 15 main`")
        if found.port != PORT:
            raise ServiceError(f"PostgreSQL cluster {found.version}/{found.name} is on port {found.port}, not {PORT}")
        return found

    def _ctl(self, found: Cluster, action: str, *options: str) -> None:
        done = subprocess.run(["pg_ctlcluster", *options, found.version, found.name, action],
                              capture_output=True, text=True, stdin=subprocess.DEVNULL)
        if done.returncode != 0:
            message = (done.stderr or done.stdout).strip().replace("\n", " ")
            raise ServiceError(f"pg_ctlcluster {found.version} {found.name} {action} failed: {message}")

    def _provision(self) -> None:
        # Peer authentication as the postgres superuser, over the local socket.
        if os.geteuid() == 0:
            psql = ["runuser", "-u", "postgres", "--", "psql"]
        elif pwd.getpwuid(os.geteuid()).pw_name == "postgres":
            psql = ["psql"]
        else:
            return  # cannot provision; the role and databases may already exist
        done = subprocess.run([*psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-p", str(PORT), "-d", "postgres"],
                              input=PROVISION_SQL, capture_output=True, text=True, cwd="/")
        if done.returncode != 0:
            raise ServiceError(f"creating role/databases {ROLE} failed: {done.stderr.strip()}")


class ScratchCluster:
    """A PostgreSQL cluster of its own: ``initdb`` into ``base_dir``, ``pg_ctl`` on ``port``.

    For tests that stop, crash and restart the server (tests/faults/) without touching the
    shared `15 main` that `tierwatch services up` manages. Same server settings as that one,
    smaller buffers. As root, the server runs as the ``postgres`` user (it refuses root)."""

    def __init__(self, base_dir: Path, port: int) -> None:
        self.base_dir, self.port = base_dir, port
        self.data_dir = base_dir / "data"
        self.socket_dir = base_dir / "sockets"
        self.log_file = base_dir / "postgres.log"
        self.bin_dir = _newest_bin_dir()

    def url(self, database: str = DATABASES[0]) -> str:
        return f"postgresql+psycopg://{ROLE}:{PASSWORD}@{HOST}:{self.port}/{database}"

    def init(self) -> None:
        """Create the cluster (once), its role ``tierwatch`` (CREATEDB) and database ``tierwatch``."""
        self.base_dir.mkdir(parents=True, exist_ok=True)
        self.base_dir.chmod(0o755)  # the server user must reach its data and socket directories
        if not (self.data_dir / "PG_VERSION").exists():
            for path in (self.data_dir, self.socket_dir):
                path.mkdir(exist_ok=True)
                _give_to_server_user(path)
            self._run("initdb", "-D", str(self.data_dir), "-U", "postgres", "-E", "UTF8", "--locale=C.UTF-8",
                      "--auth-local=trust", "--auth-host=scram-sha-256")
            settings = {**SERVER_SETTINGS, "shared_buffers": "128MB", "port": str(self.port),
                        "listen_addresses": HOST, "unix_socket_directories": str(self.socket_dir)}
            with (self.data_dir / "postgresql.conf").open("a") as conf:
                conf.write("# tierwatch ScratchCluster (core/services/postgres.py)\n")
                conf.writelines(f"{name} = '{value}'\n" for name, value in settings.items())
        self.start()
        done = subprocess.run([*self._as_server_user(), str(self.bin_dir / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1",
                               "-h", str(self.socket_dir), "-p", str(self.port), "-U", "postgres", "-d", "postgres"],
                              input=PROVISION_SQL, capture_output=True, text=True, cwd="/")
        if done.returncode != 0:
            raise ServiceError(f"creating role/databases {ROLE} failed: {done.stderr.strip()}")

    def start(self, timeout: float = 60) -> None:
        self._run("pg_ctl", "-D", str(self.data_dir), "-l", str(self.log_file), "-w", "-t", str(int(timeout)), "start")

    def stop(self, mode: str = "fast") -> None:
        """``fast`` ends every session and shuts down cleanly; ``immediate`` is a crash (the
        next start recovers from the WAL)."""
        self._run("pg_ctl", "-D", str(self.data_dir), "-m", mode, "-w", "stop")

    def running(self) -> bool:
        return subprocess.run([str(self.bin_dir / "pg_isready"), "-q", "-h", HOST, "-p", str(self.port)]).returncode == 0

    def _run(self, tool: str, *args: str) -> None:
        if tool != "initdb":
            self.log_file.touch()
            _give_to_server_user(self.log_file)
        done = subprocess.run([*self._as_server_user(), str(self.bin_dir / tool), *args],
                              capture_output=True, text=True, stdin=subprocess.DEVNULL, cwd="/")
        if done.returncode != 0:
            message = (done.stderr or done.stdout).strip().replace("\n", " ")[-500:]
            raise ServiceError(f"{tool} {' '.join(args[-1:])} failed: {message}")

    @staticmethod
    def _as_server_user() -> list[str]:
        return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def _newest_bin_dir() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    if not found:
        raise ServiceError("PostgreSQL server binaries not found under /usr/lib/postgresql; "
                           "as root run `apt-get install -y postgresql`")
    return found[-1].parent


def _give_to_server_user(path: Path) -> None:
    if os.geteuid() == 0:
        server = pwd.getpwnam("postgres")
        os.chown(path, server.pw_uid, server.pw_gid)
