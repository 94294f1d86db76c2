"""A real headless chromium driving the dashboard through the gateway.

One browser per test module (``browser`` fixture); each test gets a ``Dashboard``
(``dashboard`` fixture) with fresh cookies. Every page a test opens is captured as a
screenshot; when the test fails they are written, with the last page's HTML, under
``$TSUBAME_TEST_ARTEFACTS`` (default ``.test-artefacts``) ``/web/<test>/``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

from scripts.browser import CHROMEDRIVER, CHROMIUM, chrome_flags, ensure_packages
from scripts.stack import Stack

REPO = Path(__file__).resolve().parents[2]
ARTEFACTS = Path(os.environ.get("TSUBAME_TEST_ARTEFACTS") or REPO / ".test-artefacts") / "web"
WAIT = 30.0


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    ensure_packages()  # fails (never skips) with the reason when it cannot install
    with tempfile.TemporaryDirectory(prefix="tsubame-chromium-") as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in chrome_flags(profile):
            options.add_argument(flag)
        # Navigations return once the document is parsed; tests wait for what they need.
        options.page_load_strategy = "eager"
        # The network events, to see when the pieces of a streamed page arrived.
        options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
        driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
        driver.set_page_load_timeout(120)
        try:
            yield driver
        finally:
            driver.quit()


class Dashboard:
    def __init__(self, driver: webdriver.Chrome, base: str) -> None:
        self.driver = driver
        self.base = base
        self.shots: list[tuple[str, bytes]] = []

    # -- navigation -----------------------------------------------------------------

    def open(self, path: str) -> None:
        self.driver.get(path if path.startswith("http") else self.base + path)
        self.wait_for("body")
        self.shot()

    def shot(self) -> None:
        try:
            self.shots.append((self.driver.current_url, self.driver.get_screenshot_as_png()))
        except Exception:  # noqa: BLE001 - a screenshot must never fail the test itself
            pass

    def path(self) -> str:
        return re.sub(r"^https?://[^/]+", "", self.driver.current_url)

    def arrivals(self, path_suffix: str) -> list[tuple[float, int]]:
        """(time in seconds, bytes) of each piece of the pages whose address ends with
        ``path_suffix``, received since the last call (the browser's network log)."""
        events = [json.loads(e["message"])["message"] for e in self.driver.get_log("performance")]
        ids = {
            e["params"]["requestId"]
            for e in events
            if e["method"] == "Network.requestWillBeSent"
            and e["params"]["request"]["url"].endswith(path_suffix)
        }
        return [
            (float(e["params"]["timestamp"]), int(e["params"]["dataLength"]))
            for e in events
            if e["method"] == "Network.dataReceived" and e["params"]["requestId"] in ids
        ]

    # -- finding and waiting -----------------------------------------------------------

    def find(self, css: str) -> WebElement:
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def all(self, css: str) -> list[WebElement]:
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def wait_for(self, css: str, timeout: float = WAIT) -> WebElement:
        return WebDriverWait(self.driver, timeout).until(
            lambda d: d.find_element(By.CSS_SELECTOR, css)
        )

    def wait_until(self, check: Callable[[], Any], timeout: float = WAIT, what: str = "") -> Any:
        try:
            return WebDriverWait(self.driver, timeout, poll_frequency=0.2).until(lambda _d: check())
        except TimeoutException:
            self.shot()
            raise AssertionError(f"timed out waiting for {what or check}") from None

    def text(self, css: str = "body") -> str:
        return str(self.find(css).text)

    # -- forms ------------------------------------------------------------------------

    def fill(self, form: str, **fields: str) -> None:
        for name, value in fields.items():
            field = self.find(f'{form} [name="{name}"]')
            if field.tag_name == "select":
                field.find_element(By.CSS_SELECTOR, f'option[value="{value}"]').click()
            else:
                field.clear()
                field.send_keys(value)

    def submit(self, button: str) -> None:
        """Click a submit button and wait for the next page to be parsed."""
        old = self.find("html")
        self.find(button).click()
        self.wait_until(lambda: _stale(old), what=f"the page after {button}")
        self.wait_for("body")
        self.shot()

    def sign_in(self, email: str, password: str) -> None:
        self.open("/ui/login")
        self.fill("#login-form", email=email, password=password)
        self.submit("#sign-in")

    def save(self, name: str) -> Path:
        out = ARTEFACTS / re.sub(r"[^A-Za-z0-9_.-]+", "_", name)
        shutil.rmtree(out, ignore_errors=True)  # this run's pages only
        out.mkdir(parents=True, exist_ok=True)
        for i, (url, png) in enumerate(self.shots):
            (out / f"{i:02d}.png").write_bytes(png)
            with open(out / "pages.txt", "a") as f:
                f.write(f"{i:02d} {url}\n")
        try:
            (out / "last.png").write_bytes(self.driver.get_screenshot_as_png())
            (out / "last.html").write_text(self.driver.page_source)
        except Exception:  # noqa: BLE001
            pass
        return out


def _stale(element: WebElement) -> bool:
    try:
        element.tag_name  # noqa: B018 - touching it raises once the page changed
    except Exception:  # noqa: BLE001 - StaleElementReferenceException
        return True
    return False


@pytest.fixture
def dashboard(
    browser: webdriver.Chrome, stack: Stack, request: pytest.FixtureRequest
) -> Iterator[Dashboard]:
    browser.execute_cdp_cmd("Network.clearBrowserCookies", {})
    board = Dashboard(browser, stack.url)
    yield board
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        where = board.save(request.node.nodeid)
        print(f"dashboard screenshots: {where}")
    browser.execute_cdp_cmd("Network.clearBrowserCookies", {})
    browser.get("about:blank")
    browser.get_log("performance")  # the network events kept since: dropped
