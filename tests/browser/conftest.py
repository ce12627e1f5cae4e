"""Browser tests: Playwright (sync API) driving Debian's Chromium against the app served by
waitress on the real services (PostgreSQL, Kafka, Elasticsearch: tests/live.py).

Fixtures: ``live_server`` (the app, module-scoped, with the registry test world: accounts of every
role, password tests.unit.registry.factories.PASSWORD), ``browser`` (one Chromium per session),
``visit`` (a fresh context per test, Chinese, Beijing time, a phone-sized window; ``visit.shot()``
saves a full-page screenshot to test-artifacts/). Every journey ends with ``assert_clean(visit)``:
no request left for another host, no console error (a CSP refusal is one).

Chromium: /usr/bin/chromium (``apt-get install chromium fonts-noto-cjk``; scripts/test.sh does it
as root) or TIERWATCH_CHROMIUM. Playwright's own browser download is never used.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tierwatch.web import create_app
from tests.conftest import REPO, REQUIRE_SERVICES
from tests.live import live_container
from tests.unit.registry.factories import World, make_world

ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = Path(os.environ.get("TIERWATCH_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                 "--disable-background-networking", "--disable-component-update"]
PHONE = {"width": 390, "height": 844}


@contextmanager
def serving(app: Any, threads: int = 4) -> Iterator[str]:
    """waitress (the production server) on a free port, in a thread, stopped cleanly.

    Not server.run() + server.close() from the test thread: closing the sockets under a running
    select() raised EBADF in the server thread now and then (seen under load). The loop stops
    first, then the sockets close."""
    from waitress import wasyncore
    from waitress.server import create_server

    server = create_server(app, host="127.0.0.1", port=0, threads=threads, clear_untrusted_proxy_headers=True)
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            wasyncore.loop(timeout=0.1, map=server._map, count=1)

    thread = threading.Thread(target=loop, name="waitress", daemon=True)
    thread.start()
    try:
        # Chromium treats http://localhost as a secure context: the Secure, __Host- session
        # cookie works here over plain HTTP, as it would over HTTPS.
        yield f"http://localhost:{server.effective_port}"
    finally:
        stop.set()
        thread.join(timeout=5)
        server.task_dispatcher.shutdown()
        wasyncore.close_all(server._map)


@dataclass
class LiveServer:
    url: str
    world: World
    container: Any


@pytest.fixture(scope="module")
def live_server(postgres_url, kafka_bootstrap, elasticsearch_url, tmp_path_factory, request) -> Iterator[LiveServer]:
    name = request.module.__name__.rpartition(".")[2].removeprefix("test_")[:20]
    with live_container(postgres_url, kafka_bootstrap, elasticsearch_url, tmp_path_factory.mktemp("live"),
                        f"web_{name}") as container:
        world = make_world(container)
        _file_some_applications(container, world)
        # Public forms are used many times a minute by the tests: a limit they never reach.
        app = create_app({"PUBLIC_FORM_LIMIT": "1000 per minute", "SIGNIN_LIMIT": "100 per minute"}, container)
        with serving(app) as url:
            yield LiveServer(url, world, container)


def _file_some_applications(container: Any, world: World) -> None:
    """Three drafts of company A, one of them submitted: something for the portals to show."""
    from tierwatch.registry import service
    from tierwatch.registry.schemas import CreateApplicationIn
    from tests.unit.registry.factories import full_fields

    with container.uow() as uow:
        apps = [service.create_application(uow, world.a, CreateApplicationIn(**full_fields(name=name)))
                for name in ("粤智客服助手", "粤语语音合成", "智能审单")]
        service.transition(uow, world.a, apps[0].id, "submit")
        uow.commit()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} missing: apt-get install -y chromium fonts-noto-cjk (or set TIERWATCH_CHROMIUM)"
        if REQUIRE_SERVICES or os.environ.get("CI"):
            pytest.fail(message + " (TIERWATCH_REQUIRE_SERVICES=1: a failure, not a skip)")
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Visit:
    """One browser context: the page, what it asked of other hosts, its console errors, and the
    style sheets, scripts and images that failed (a page itself may answer 401 or 422 on purpose)."""

    def __init__(self, page: Any, base_url: str, name: str) -> None:
        self.page, self.base_url, self.name = page, base_url, name
        self.outside: list[str] = []
        self.console_errors: list[str] = []
        self.failed_resources: list[str] = []
        self.shots: list[Path] = []
        page.on("console", self._console)
        page.on("pageerror", lambda e: self.console_errors.append(str(e)))
        page.on("response", self._response)

    def _console(self, message: Any) -> None:
        # "Failed to load resource" is also logged for a page answering 4xx: _response judges those.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.console_errors.append(message.text)

    def _response(self, response: Any) -> None:
        if response.status >= 400 and response.request.resource_type != "document":
            self.failed_resources.append(f"{response.status} {response.url}")

    def shot(self, label: str) -> Path:
        """A full-page screenshot: test-artifacts/<test>-NN-<label>.png."""
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{self.name}-{len(self.shots) + 1:02d}-{label}.png"
        self.page.screenshot(path=str(path), full_page=True)
        self.shots.append(path)
        return path


def open_context(browser: Any, base_url: str, name: str, *, javascript: bool = True,
                 viewport: dict[str, int] = PHONE) -> tuple[Any, Visit]:
    context = browser.new_context(base_url=base_url, locale="zh-CN", timezone_id="Asia/Shanghai",
                                  viewport=viewport, java_script_enabled=javascript)
    visit = Visit(context.new_page(), base_url, name)

    def guard(route: Any) -> None:
        # The pages must need nothing from another host: such a request is recorded and refused.
        url = route.request.url
        if url.startswith(base_url) or url.startswith("data:"):
            route.continue_()
        else:
            visit.outside.append(url)
            route.abort()

    context.route("**/*", guard)
    return context, visit


@pytest.fixture
def visit(browser, live_server, request) -> Iterator[Visit]:
    """A Chinese-speaking visitor on a phone, with JavaScript (``@pytest.mark.parametrize("visit",
    [False], indirect=True)`` for one without)."""
    javascript = getattr(request, "param", True)
    context, v = open_context(browser, live_server.url, request.node.name, javascript=javascript)
    yield v
    context.close()


def assert_clean(visit: Visit) -> None:
    assert visit.outside == [], f"requests to other hosts: {visit.outside}"
    assert visit.console_errors == [], visit.console_errors
    assert visit.failed_resources == [], visit.failed_resources


# axe-core, as shipped in the axe-playwright-python wheel (no network). Loaded with
# page.evaluate, so the page's CSP does not block it. It cannot run with JavaScript off.
def serious_accessibility_findings(page: Any) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [f"{v['id']} ({v['impact']}): {v['help']} - {[n['target'] for n in v['nodes']][:3]}"
            for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
