"""The headless Chromium the dashboard benchmark and the browser tests drive."""

from __future__ import annotations

from typing import Any


def headless_chromium(*, logs: bool = False) -> Any:
    """Debian's chromium + chromium-driver through Selenium, headless, 1400 x 1800;
    ``logs`` records the DevTools performance (network) and console logs."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--window-size=1400,1800",
    ):
        options.add_argument(arg)
    if logs:
        options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
