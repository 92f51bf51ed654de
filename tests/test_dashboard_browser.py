"""The dashboard as a person uses it: ``psoas dashboard`` serving a real store, driven by a real
headless Chromium (Debian's chromium + chromium-driver, through Selenium's WebDriver).

The demo store is four simulated weeks analysed by the real pipeline (psoas/demo_store.py). A
screenshot of every page is saved under ``test-artifacts/dashboard/``. The browser's network
log (Chrome DevTools performance log) must show no request to anything but the dashboard.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from psoas.demo_store import THIGH_ID, build_demo_store
from tests.conftest import BROWSER_WAIT_S as WAIT_S
from tests.conftest import PSOAS, routine_log_rows
from tests.conftest import element_text as _text
from tests.conftest import open_page as _open
from tests.conftest import serve_dashboard as _serve
from tests.conftest import stop_process as _stop
from tests.conftest import wait_text as _wait_text

LAST_DAY = dt.date(2026, 3, 29)  # a Sunday; the store holds the four weeks before it
ARTIFACTS = Path(os.environ.get("PSOAS_TEST_ARTIFACTS", "test-artifacts")) / "dashboard"
PAGES = {
    "day": "/",
    "weeks": "/weeks",
    "routine": "/routine",
    "insights": "/insights",
    "devices": "/devices",
}


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("dash") / "demo"
    return build_demo_store(home, weeks=4, last_day=LAST_DAY)


@pytest.fixture(scope="module")
def server(demo_home: Path) -> Iterator[str]:
    proc, url = _serve(demo_home)
    yield url
    _stop(proc)


def _traces(browser, graph_id: str) -> list[dict]:
    """The plotly traces a graph shows (name, type and the number of points)."""
    return browser.execute_script(
        """const el = document.getElementById(arguments[0]);
           const plot = el && el.querySelector('.js-plotly-plot');
           if (!plot || !plot.data) return null;
           const size = v => !v ? 0 : (v.length !== undefined ? v.length : (v.bdata ? 1 : 0));
           const first = v => size(v) && v[0] !== undefined ? String(v[0]) : '';
           return plot.data.map(t => ({name: t.name || '', type: t.type || '',
                                       n: Math.max(size(t.x), size(t.y), size(t.z)),
                                       x0: first(t.x), b0: first(t.base)}));""",
        graph_id,
    )


def _wait_traces(browser, graph_id: str) -> list[dict]:
    WebDriverWait(browser, WAIT_S).until(lambda d: _traces(d, graph_id))
    return _traces(browser, graph_id)


def _shot(browser, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / f"{name}.png"))


def _set_day(browser, day: str) -> None:
    field = browser.find_element(By.ID, "day")
    field.click()
    field.send_keys(Keys.CONTROL, "a")
    field.send_keys(day, Keys.ENTER)
    field.send_keys(Keys.ESCAPE)  # close the calendar


# -- every page ------------------------------------------------------------------------------
def test_every_page_renders_its_headline_numbers(server, browser):
    _open(browser, server + "/")
    _set_day(browser, "2026-03-24")
    title = _wait_text(browser, "day-title", lambda t: "2026-03-24" in t)
    assert THIGH_ID in title  # the IMU with a sitting analysis is the default device
    sitting = _wait_text(browser, "head-sitting", lambda t: t not in ("", "—"))
    assert "h" in sitting or "min" in sitting
    assert _text(browser, "head-longest-streak") not in ("", "—")
    assert any(t["n"] > 0 for t in _wait_traces(browser, "day-timeline"))
    _shot(browser, "day")

    _open(browser, server + "/weeks")
    traces = _wait_traces(browser, "weekly-stride")
    assert sum(t["type"] == "box" for t in traces) >= 3  # weeks x pace bands
    assert _wait_traces(browser, "sitting-weeks")
    _shot(browser, "weeks")

    _open(browser, server + "/routine")
    text = _wait_text(browser, "adherence-text", lambda t: "days done" in t)
    assert "streak" in text
    assert _wait_traces(browser, "adherence-calendar")
    _shot(browser, "routine")

    _open(browser, server + "/insights")
    text = _wait_text(browser, "insights-list", lambda t: len(t) > 20)
    for line in (x for x in text.splitlines() if x.strip()):
        assert ("n = " in line and "95 % CI" in line) or "not enough data yet" in line.lower()
    _shot(browser, "insights")

    _open(browser, server + "/devices")
    WebDriverWait(browser, WAIT_S).until(lambda d: THIGH_ID in _text(d, "devices-table"))
    assert "footpod-demo" in _text(browser, "devices-table")
    assert _wait_traces(browser, "coverage")
    _shot(browser, "devices")


def test_the_day_picker_changes_the_timeline(server, browser):
    _open(browser, server + "/")
    _set_day(browser, "2026-03-20")
    _wait_text(browser, "day-title", lambda t: "2026-03-20" in t)
    first = _wait_traces(browser, "day-timeline")
    _set_day(browser, "2026-03-21")
    _wait_text(browser, "day-title", lambda t: "2026-03-21" in t)
    WebDriverWait(browser, WAIT_S).until(lambda d: _traces(d, "day-timeline") != first)
    second = _traces(browser, "day-timeline")
    assert any("2026-03-21" in t["x0"] + t["b0"] for t in second)


def test_the_device_and_range_persist_across_pages(server, browser):
    _open(browser, server + "/")
    _set_day(browser, "2026-03-18")
    _wait_text(browser, "day-title", lambda t: "2026-03-18" in t)
    browser.find_element(By.LINK_TEXT, "Weeks").click()
    WebDriverWait(browser, WAIT_S).until(lambda d: d.find_elements(By.ID, "weekly-stride"))
    browser.find_element(By.LINK_TEXT, "Day").click()
    assert _wait_text(browser, "day-title", lambda t: "2026-03-18" in t)
    browser.refresh()
    assert _wait_text(browser, "day-title", lambda t: "2026-03-18" in t)


def _fill(browser, element_id: str, value: str) -> None:
    field = browser.find_element(By.ID, element_id)
    field.clear()
    field.send_keys(value)


def test_logging_through_the_form_updates_the_calendar_and_the_insights(server, browser, demo_home):
    _open(browser, server + "/insights")
    insights_before = _wait_text(browser, "insights-list", lambda t: len(t) > 20)
    _open(browser, server + "/routine")
    _wait_traces(browser, "adherence-calendar")
    day = _first_day_without_routine(browser)
    _fill(browser, "form-day", day)
    browser.find_element(By.ID, "form-done").click()
    message = _wait_text(browser, "form-message", lambda t: "logged" in t)
    assert day in message
    WebDriverWait(browser, WAIT_S).until(lambda d: _calendar_cell(d, day) == "100%")
    _shot(browser, "routine-after-logging")
    _open(browser, server + "/insights")
    insights_after = _wait_text(browser, "insights-list", lambda t: len(t) > 20)
    assert insights_after != insights_before  # the new day entered the estimates


def _calendar_cell(browser, day: str) -> str | None:
    """The text of ``day``'s cell of the adherence calendar (its hover text names the day)."""
    return browser.execute_script(
        """const graph = document.getElementById('adherence-calendar');
           const plot = graph.querySelector('.js-plotly-plot');
           for (const t of plot.data) {
             if (!t.customdata) continue;
             for (let r = 0; r < t.customdata.length; r++)
               for (let c = 0; c < t.customdata[r].length; c++)
                 if (String(t.customdata[r][c]).includes(arguments[0])) return t.text[r][c];
           }
           return null;""",
        day,
    )


def _first_day_without_routine(browser) -> str:
    for offset in range(27, -1, -1):
        day = (LAST_DAY - dt.timedelta(days=offset)).isoformat()
        if _calendar_cell(browser, day) == "0%":
            return day
    raise AssertionError("the demo person did the routine every day")


def test_an_invalid_form_entry_shows_its_message_and_stores_nothing(server, browser, demo_home):
    _open(browser, server + "/routine")
    _wait_traces(browser, "adherence-calendar")
    rows = routine_log_rows(demo_home)
    _fill(browser, "form-day", "2026-03-25")
    _fill(browser, "form-pain", "11")
    _fill(browser, "form-stiffness", "3")
    browser.find_element(By.ID, "form-submit").click()
    message = _wait_text(browser, "form-message", lambda t: t.startswith("Not logged"))
    assert "pain must be between 0 and 10" in message
    assert routine_log_rows(demo_home) == rows
    # the form is usable from the keyboard: Enter in a field submits it
    _fill(browser, "form-pain", "12")
    browser.find_element(By.ID, "form-pain").send_keys(Keys.ENTER)
    _wait_text(browser, "form-message", lambda t: "got 12" in t)
    assert routine_log_rows(demo_home) == rows


def test_no_request_leaves_the_dashboard(server, browser):
    browser.get_log("performance")  # drop what earlier tests loaded
    for path in PAGES.values():
        _open(browser, server + path)
        WebDriverWait(browser, WAIT_S).until(
            lambda d: d.execute_script("return document.querySelectorAll('.js-plotly-plot').length")
        )
        time.sleep(1.0)
    urls = []
    for entry in browser.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    assert len(urls) > 20
    outside = [u for u in urls if not u.startswith((server + "/", "data:", "blob:"))]
    assert outside == []


# -- token mode ------------------------------------------------------------------------------
def test_another_address_needs_the_token_on_every_request(demo_home, browser):
    refused = subprocess.run(
        [PSOAS, "--home", str(demo_home), "dashboard", "--host", "127.0.0.2"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 2 and "--token" in refused.stderr
    proc, url = _serve(demo_home, "--token", "s3cret-token", host="127.0.0.2")
    try:
        for path in ("/", "/_dash-layout", "/_dash-dependencies", "/assets/psoas.css"):
            with pytest.raises(urllib.error.HTTPError) as denied:
                urllib.request.urlopen(url + path, timeout=10)
            assert denied.value.code == 401
        wrong = urllib.request.Request(url + "/", headers={"Authorization": "Bearer nope"})
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(wrong, timeout=10)
        ok = urllib.request.Request(
            url + "/_dash-layout", headers={"Authorization": "Bearer s3cret-token"}
        )
        assert urllib.request.urlopen(ok, timeout=10).status == 200
        _open(browser, url + "/?token=s3cret-token")  # sets a cookie for the app's own requests
        _set_day(browser, "2026-03-24")
        assert _wait_text(browser, "head-sitting", lambda t: t not in ("", "—"))
        _shot(browser, "token-mode")
    finally:
        _stop(proc)
    assert "warning" in proc.stdout.read()


# -- live ------------------------------------------------------------------------------------
@pytest.mark.timeout(240)
def test_the_live_banner_follows_a_wearable_streaming_into_the_store(tmp_path, browser):
    from sensors.ble.adapters import parse_adapter
    from sensors.ble.collector import collect_devices
    from sensors.ble.wearable import WearableOptions, wearable_from_simulation
    from sensors.store import Store
    from tests.test_live_alerts import _history, _sitting_live_source

    home = tmp_path / "live"
    now_ns = time.time_ns()
    bout_start_ns = now_ns - 20 * 60 * 1_000_000_000  # sitting for 20 min when streaming starts
    wearable = wearable_from_simulation(
        _history(now_ns, bout_start_ns),
        WearableOptions(name="live-imu", clock_offset_s=0.0, live_batch_s=0.2),
        live_source=_sitting_live_source,
    )
    Store.open(home).close()
    proc, url = _serve(home)
    stop = threading.Event()

    async def collect() -> None:
        link = "bumble:link:dashboard-live"
        await wearable.start(link)
        adapter = parse_adapter(link)
        try:
            with Store.open(home) as store:
                await collect_devices(
                    store,
                    adapter,
                    ["live-imu"],
                    tz="UTC",
                    placement="thigh",
                    live_s=30.0,
                    scan_timeout_s=2.0,
                    commit_every_s=0.5,
                )
        finally:
            await adapter.close()
            await wearable.stop()
            stop.set()

    collector = threading.Thread(target=lambda: asyncio.run(collect()), daemon=True)
    collector.start()
    try:
        _open(browser, url + "/")
        banner = _wait_text(browser, "live-banner", lambda t: "sitting for" in t)
        assert "live-imu" in banner
        first = int(banner.split("sitting for ")[1].split(" min")[0])
        assert 19 <= first <= 24
        # it keeps updating from the store while the collector commits
        later = _wait_text(browser, "live-banner", lambda t: "sitting for" in t and t != banner)
        _shot(browser, "live-banner")
        assert int(later.split("sitting for ")[1].split(" min")[0]) >= first
    finally:
        stop.wait(120)
        _stop(proc)
