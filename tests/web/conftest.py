"""The real app over HTTP, on a demo-initialised data directory, and a headless Chromium.

``site``: ``evault demo``'s data (demo PKI, departments with client credentials, holders,
sealed licenses) in a temporary directory, served by uvicorn on 127.0.0.1 (a free port) in
a background thread, once per session. ``browser``: Debian's chromium driven by Playwright
(no ``playwright install``: the system browser). Missing chromium skips here, fails in CI.

Screenshots go to ``test-artifacts/web/`` (gitignored) at phone and desktop widths.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import ROOT, free_port, free_ports, require

CHROMIUM = Path("/usr/bin/chromium")
_CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
ARTIFACTS = ROOT / "test-artifacts" / "web"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


def csrf_of(html: str) -> str:
    """The CSRF token of the (first) form on a page."""
    match = _CSRF_FIELD.search(html)
    assert match, "no csrf_token in the form"
    return match.group(1)


def login(client: Any, holder: int = 0) -> None:
    """Log ``client`` (a TestClient of a demo-mode app) in as demo holder ``holder``."""
    client.cookies.clear()
    token = csrf_of(client.get("/login").text)
    r = client.post(
        "/login", data={"holder": str(holder), "csrf_token": token}, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"] == "/me"


@dataclass
class Site:
    base: str
    data_dir: Path
    demo: dict[str, Any]

    def department(self, name_part: str) -> dict[str, Any]:
        return next(d for d in self.demo["departments"] if name_part in d["name"])

    def holder(self, name: str) -> dict[str, Any]:
        return next(h for h in self.demo["holders"] if h["name"] == name)

    def department_token(self, name_part: str) -> str:
        dept = self.department(name_part)
        r = httpx.post(
            f"{self.base}/v1/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": dept["client_id"],
                "client_secret": dept["client_secret"],
            },
            timeout=30,
        )
        assert r.status_code == 200, r.text
        token: str = r.json()["access_token"]
        return token


@dataclass(frozen=True)
class DemoData:
    """``evault demo``'s data directory, prepared once per test session."""

    data_dir: Path
    document: dict[str, Any]

    def settings(self, base: str, **overrides: Any) -> Any:
        from vault.settings import load_settings

        values: dict[str, Any] = {
            "mode": "demo",
            "data_dir": self.data_dir,
            "public_base_url": base,
            "rate_limit_per_minute": 1_000_000,
            "rate_limit_burst": 1_000_000,
        }
        values.update(overrides)
        return load_settings(**values)


def prepare_demo_data(data_dir: Path, base: str | None = None) -> DemoData:
    """``evault demo --no-serve`` into ``data_dir`` (for ``base``, its public address)."""
    from api.demo.prepare import prepare_demo
    from vault.settings import load_settings

    settings = load_settings(
        mode="demo", data_dir=data_dir, **({"public_base_url": base} if base else {})
    )
    # In a thread of its own: Playwright's sync API keeps an event loop running in this one,
    # and the demo's sealing refuses to run inside a loop.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        summary = pool.submit(prepare_demo, settings).result()
    return DemoData(settings.data_dir, json.loads(summary.credentials_file.read_text()))


@contextlib.contextmanager
def serving(demo: DemoData, port: int | None = None) -> Iterator[Site]:
    """The real app on ``demo``'s data, served by uvicorn on 127.0.0.1 (default: a free port),
    with the demo's witness beside it as ``evault demo`` runs it."""
    import uvicorn

    from api.app import create_app
    from api.witness_cli import demo_witness, start_in_thread
    from vault.log.keys import load_log_key

    port, wport = (port, free_port()) if port else free_ports(2)
    base = f"http://127.0.0.1:{port}"
    log_vkey = load_log_key(demo.settings(base)).verifier().vkey()
    service, spec = demo_witness(demo.data_dir, log_vkey, "127.0.0.1", wport)
    witness = start_in_thread(service, "127.0.0.1", wport)
    settings = demo.settings(base, witnesses=[spec])
    app = create_app(settings)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=server.run, name="uvicorn-web-tests", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("uvicorn did not start", pytrace=False)
        time.sleep(0.05)
    try:
        yield Site(base, settings.data_dir, demo.document)
    finally:
        server.should_exit = witness.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def demo_data(tmp_path_factory: pytest.TempPathFactory) -> DemoData:
    return prepare_demo_data(tmp_path_factory.mktemp("web") / "data")


@pytest.fixture(scope="session")
def site(demo_data: DemoData) -> Iterator[Site]:
    with serving(demo_data) as served:
        yield served


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    require(CHROMIUM.is_file(), "Debian chromium at /usr/bin/chromium (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require(False, "the playwright Python package (pip install playwright)")
        raise
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    # Module scope: Playwright's sync API keeps an event loop running in this thread while
    # it is started, which code that calls asyncio.run() (sealing) must not meet later.
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Any, site: Site) -> Iterator[Any]:
    """A fresh browser context (no cookies) at phone width, with downloads enabled.

    Requests to any other host are refused and recorded in ``page.foreign``: the pages must
    work on a closed network.
    """
    context = browser.new_context(
        viewport=PHONE, accept_downloads=True, base_url=site.base, locale="zh-CN"
    )
    context.set_default_timeout(20_000)
    foreign: list[str] = []

    def only_this_site(route: Any) -> None:
        """Nothing leaves for another host: such a request is recorded and refused."""
        url = route.request.url
        if url.startswith((site.base + "/", "data:", "blob:")):
            route.continue_()
        else:
            foreign.append(url)
            route.abort()

    context.route("**/*", only_this_site)
    pg = context.new_page()
    problems: list[str] = []
    pg.on(
        "console",
        lambda msg: problems.append(msg.text) if msg.type in ("error", "warning") else None,
    )
    pg.problems = problems
    pg.foreign = foreign
    try:
        yield pg
    finally:
        context.close()


def shoot(page: Any, name: str) -> list[Path]:
    """Full-page screenshots at phone and desktop widths; back to phone width after.

    Also checks what a screenshot cannot show: every form control has a label, the page has
    a language, and nothing scrolls sideways.
    """
    unlabeled = page.evaluate(
        """[...document.querySelectorAll('input:not([type=hidden]), select, textarea, button')]
            .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')
                         && !(e.tagName === 'BUTTON' && e.innerText.trim()))
            .map(e => e.outerHTML)"""
    )
    assert unlabeled == [], f"{name}: controls without a label: {unlabeled}"
    assert page.locator("html").get_attribute("lang") in ("zh-CN", "en")
    paths = []
    for label, size in (("phone", PHONE), ("desktop", DESKTOP)):
        page.set_viewport_size(size)
        path = ARTIFACTS / f"{name}-{label}.png"
        page.screenshot(path=str(path), full_page=True)
        overflow = page.evaluate("document.documentElement.scrollWidth") - size["width"]
        assert overflow <= 0, f"{name} is {overflow} px wider than the {label} screen"
        paths.append(path)
    page.set_viewport_size(PHONE)
    return paths
