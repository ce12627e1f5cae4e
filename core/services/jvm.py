"""What Kafka and Elasticsearch share: jars fetched by Maven once and cached, one JVM per service
started in its own session, tracked by a pid file and stopped by pid."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import defusedxml.ElementTree as ET  # a pom needs no entities or DTDs: refuse them
from defusedxml import DefusedXmlException

from tierwatch.core.services.layout import HOST, Layout
from tierwatch.core.services.process import (
    ServiceError,
    cmdline,
    fingerprint,
    log_tail,
    pid_alive,
    port_in_use,
    read_pid_file,
    rss_mb,
    spawn,
    terminate,
    wait_until,
)

Echo = Callable[[str], None]


def executable(name: str, hint: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise ServiceError(f"`{name}` not found on PATH; {hint}")
    return path


def pom_property(pom: Path, name: str) -> str:
    ns = {"m": "http://maven.apache.org/POM/4.0.0"}
    try:
        root = ET.parse(pom).getroot()
    except (OSError, ET.ParseError, DefusedXmlException) as error:
        raise ServiceError(f"cannot read {pom} ({error}); run from a tierwatch checkout") from error
    value = root.findtext(f"m:properties/m:{name}", default="", namespaces=ns).strip()
    if not value:
        raise ServiceError(f"{pom} has no <{name}> property")
    return value


def maven_build(name: str, project_dir: Path, goals: Sequence[str], layout: Layout, echo: Echo) -> Path:
    """Run Maven once per content of `project_dir`; return `<cache>/<name>-<digest>/` whose `lib/`
    holds the runtime jars. The goals write jars to `${lib}` and build output to `${build}`."""
    sources = [p for p in project_dir.rglob("*") if p.is_file() and "target" not in p.parts]
    target = layout.cache_dir / f"{name}-{fingerprint(project_dir, sources)}"
    if (target / ".complete").exists():
        return target

    mvn = executable("mvn", "install it with `apt-get install -y maven`")
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    (partial / "lib").mkdir(parents=True)
    build_log = layout.cache_dir / f"{name}-build.log"
    args = [a.replace("${lib}", str(partial / "lib")).replace("${build}", str(partial / "build")) for a in goals]
    echo(f"{name:14} fetching jars with Maven into {target} (first start only) ...")
    started = time.monotonic()
    with build_log.open("w") as log:
        done = subprocess.run([mvn, "-q", "-B", "-f", str(project_dir / "pom.xml"), *args],
                              stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        raise ServiceError(f"Maven build of {name} failed (exit {done.returncode}); see {build_log}")
    # A jar the project builds itself (the Elasticsearch launcher) joins the runtime jars.
    for built in (partial / "build").glob("*.jar"):
        built.rename(partial / "lib" / built.name)
    shutil.rmtree(partial / "build", ignore_errors=True)
    (partial / ".complete").write_text(f"built in {time.monotonic() - started:.0f}s\n")
    # Builds of older pom/source versions are dead weight: keep only this one.
    for stale in layout.cache_dir.glob(f"{name}-*"):
        if stale.is_dir() and stale != partial:
            shutil.rmtree(stale, ignore_errors=True)
    partial.rename(target)
    echo(f"{name:14} jars cached in {time.monotonic() - started:.0f}s")
    return target


def class_data_sharing(java: str, lib: Path) -> list[str]:
    """JVM options for AppCDS. The first run records the classes it loaded into an archive when it
    exits (at `down`); later runs map that archive instead of parsing a hundred jars again, which
    halves Elasticsearch's start-up on two busy cores. The archive sits beside the jars it was made
    from and is named after the JVM binary, so a rebuild or a JDK update starts a new one."""
    binary = Path(java).resolve()
    jvm_key = hashlib.sha256(f"{binary}:{binary.stat().st_mtime_ns}".encode()).hexdigest()[:10]
    archive = lib.parent / f"classes-{jvm_key}.jsa"
    verified = archive.with_suffix(".verified")
    if verified.exists():
        return [f"-XX:SharedArchiveFile={archive}"]
    if archive.exists():
        # A JVM killed while writing leaves a broken archive, which -Xshare:auto would silently
        # ignore forever: check it once with -Xshare:on.
        check = subprocess.run([java, "-Xshare:on", f"-XX:SharedArchiveFile={archive}", "-cp", f"{lib}/*", "-version"],
                               capture_output=True, stdin=subprocess.DEVNULL, cwd=lib.parent)
        if check.returncode == 0:
            verified.touch()
            return [f"-XX:SharedArchiveFile={archive}"]
        archive.unlink()
    # Dumping lists every class it cannot archive as a warning; keep the log readable.
    return [f"-XX:ArchiveClassesAtExit={archive}", "-Xlog:cds=error", "-Xlog:cds+dynamic=error"]


class JavaService:
    """One JVM, started from cached jars, whose command line names its state directory."""

    name: str
    version: str
    ports: tuple[int, ...]
    ready_timeout: float
    stop_timeout: float = 40.0

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.state_dir = layout.state_dir / self.name
        self.pid_file = self.state_dir / f"{self.name}.pid"
        self.log_file = self.state_dir / f"{self.name}.log"
        self.lib_dir: Path | None = None

    # Per service -------------------------------------------------------------------------------
    def prepare(self, echo: Echo) -> None:
        raise NotImplementedError

    def configure(self, java: str, lib: Path) -> list[str]:
        """Write the service's configuration under state_dir; return its command line."""
        raise NotImplementedError

    def ready(self) -> bool:
        raise NotImplementedError

    def endpoint(self) -> str:
        return f"{HOST}:{self.ports[0]}"

    # Shared ------------------------------------------------------------------------------------
    def running_pid(self) -> int | None:
        # The state directory in the command line tells our JVM from any other on the machine.
        return read_pid_file(self.pid_file, str(self.state_dir))

    def busy_ports(self) -> list[int]:
        return [port for port in self.ports if port_in_use(port)]

    def launch(self) -> None:
        if self.lib_dir is None:
            raise ServiceError(f"{self.name}: prepare() must run before launch()")
        java = executable("java", "install a JDK 17, e.g. `apt-get install -y openjdk-17-jre-headless`")
        self.state_dir.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("a") as log:
            log.write(f"\n==== tierwatch: starting {self.name} {self.version} at {time.strftime('%Y-%m-%d %H:%M:%S')}\n")
        argv = self.configure(java, self.lib_dir)
        argv[1:1] = class_data_sharing(java, self.lib_dir)
        pid = spawn(argv, self.log_file)
        # Until the child has exec'd, its command line reads empty, and running_pid() would take
        # the pid file for a stale one (seen on two busy cores): wait for the exec first.
        wait_until(lambda: bool(cmdline(pid)) or not pid_alive(pid), 10, interval=0.02)
        self.pid_file.write_text(f"{pid}\n")

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pid = self.running_pid()
            if pid is None:
                raise ServiceError(f"{self.name} exited during start-up; log {self.log_file}:\n{log_tail(self.log_file)}")
            if self.ready():
                return
            time.sleep(0.25)
        raise ServiceError(f"{self.name} not ready after {timeout:.0f}s; log {self.log_file}:\n{log_tail(self.log_file)}")

    def stop(self) -> None:
        pid = self.running_pid()
        if pid is not None:
            terminate(pid, self.stop_timeout)  # SIGKILL after the timeout: gone either way
        self.pid_file.unlink(missing_ok=True)

    def status(self) -> dict[str, object]:
        pid = self.running_pid()
        return {
            "state": "running" if pid else "stopped",
            "pid": pid,
            "port": ",".join(str(p) for p in self.ports),
            "rss_mb": rss_mb(pid) if pid else None,
            "version": self.version,
            "log": str(self.log_file),
        }
