"""Elasticsearch 8.19 as one in-JVM node started by services/elasticsearch (see its README)."""

from __future__ import annotations

import http.client
import json
from pathlib import Path

from tierwatch.core.services.jvm import Echo, JavaService, maven_build, pom_property
from tierwatch.core.services.layout import HOST, Layout

HTTP_PORT = 9200
LAUNCHER = "tierwatch.elasticsearch.Launcher"


class ElasticsearchService(JavaService):
    name = "elasticsearch"
    ports = (HTTP_PORT,)
    ready_timeout = 120.0

    def __init__(self, layout: Layout) -> None:
        super().__init__(layout)
        self.project_dir = layout.source_dir / "elasticsearch"
        self.version = pom_property(self.project_dir / "pom.xml", "elasticsearch.version")
        self.home_dir = self.state_dir / "home"

    def prepare(self, echo: Echo) -> None:
        build = maven_build(
            "elasticsearch", self.project_dir,
            ["package", "dependency:copy-dependencies", "-DincludeScope=runtime",
             "-DoutputDirectory=${lib}", "-Dtierwatch.build.dir=${build}"],
            self.layout, echo,
        )
        self.lib_dir = build / "lib"

    def configure(self, java: str, lib: Path) -> list[str]:
        self.home_dir.mkdir(parents=True, exist_ok=True)
        return [
            java, "-Xms512m", "-Xmx1g", "-XX:+UseG1GC", "-XX:+ExitOnOutOfMemoryError",
            "-Djava.awt.headless=true", "-Dfile.encoding=UTF-8",
            # Else log4j's own shutdown hook races the node's and the closing lines are lost.
            "-Dlog4j2.shutdownHookEnabled=false",
            # lib/ holds the launcher jar next to the server jars (see maven_build).
            "-cp", f"{lib}/*", LAUNCHER,
            f"path.home={self.home_dir}", f"network.host={HOST}", f"http.port={HTTP_PORT}",
        ]

    def ready(self) -> bool:
        # Plain HTTP to our own node on the loopback: no URL (nor scheme) to open.
        connection = http.client.HTTPConnection(HOST, HTTP_PORT, timeout=2)
        try:
            connection.request("GET", "/_cluster/health")
            health = json.load(connection.getresponse())
        except (OSError, http.client.HTTPException, ValueError):
            return False
        finally:
            connection.close()
        return health.get("status") in ("green", "yellow")
