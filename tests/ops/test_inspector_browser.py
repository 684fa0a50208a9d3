"""The inspector page in a real headless Chromium (Debian's chromium + chromium-driver, `make browser`).

Three exchanges (matched, unmatched, stream) appear with their request ids and what answered them;
the keyboard opens one; "Save as scenario" downloads YAML that `mockbay validate` accepts and that
a fresh server replays. Skipped, saying why, where Chromium is not installed; CI installs it.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mockbay.cli import main
from mockbay.server.runner import MockServer
from tests.ops.test_save_scenario import HEADERS, _answer

CHROMIUM = shutil.which("chromium")
DRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None or DRIVER is None,
    reason="needs Debian's chromium and chromium-driver: run `make browser` (CI does)",
)
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1400,850",
)
SCENARIO = """
name: capitals
match: {last_user: {contains: capital}}
rules:
  - reply: {text: {chunks: ["Paris is ", "the capital ", "of France."]}}
"""
ASKS = {
    "matched": {"messages": [{"role": "user", "content": "What is the capital of France?"}]},
    "unmatched": {"messages": [{"role": "user", "content": "Nobody scripted this"}]},
    "stream": {"stream": True, "messages": [{"role": "user", "content": "capital, streamed"}]},
}
WAIT_S = 15  # the page polls every second; a loaded CI machine gets room


@pytest.fixture()
def browser(tmp_path: Path) -> Iterator[object]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'profile'}")
    options.add_experimental_option(
        "prefs",
        {"download.default_directory": str(tmp_path / "downloads"), "download.prompt_for_download": False},
    )
    driver = webdriver.Chrome(options=options, service=Service(executable_path=str(DRIVER)))
    try:
        yield driver
    finally:
        driver.quit()


def _rows(driver: Any) -> list[tuple[str, str]]:
    """(request id, visible text) of each listed exchange, read in one script."""
    rows: list[list[str]] = driver.execute_script(
        "return [...document.querySelectorAll('#rows li[data-rid]')].map(li => [li.dataset.rid, li.innerText])"
    )
    return [(rid, text) for rid, text in rows]


def _opened(driver: Any) -> tuple[str | None, str]:
    """The request id shown in the detail pane and the pane's text, read in one script."""
    rid, text = driver.execute_script(
        "const rid = document.getElementById('detail-rid');"
        "return [rid ? rid.textContent : null, document.getElementById('detail').innerText]"
    )
    return rid, text


def test_exchanges_appear_open_and_save_as_a_replayable_scenario(browser: object, tmp_path: Path) -> None:
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.remote.webdriver import WebDriver
    from selenium.webdriver.support.ui import WebDriverWait

    driver: WebDriver = browser  # type: ignore[assignment]
    (tmp_path / "capitals.yaml").write_text(SCENARIO)
    with MockServer([tmp_path / "capitals.yaml"]) as server:
        ids = {name: _answer(server.url, "/v1/messages", body)[-1] for name, body in ASKS.items()}
        driver.get(f"{server.url}/_mockbay/ui")
        wait = WebDriverWait(driver, WAIT_S, ignored_exceptions=[StaleElementReferenceException])
        wait.until(lambda d: len(_rows(d)) == 3)
        rows = _rows(driver)  # read in one script: the page redraws rows as it polls
        assert [rid for rid, _ in rows] == [ids["stream"], ids["unmatched"], ids["matched"]]
        texts = [text for _, text in rows]
        assert all(
            ids[name] in text for name, text in zip(("stream", "unmatched", "matched"), texts, strict=True)
        )
        assert "capitals" in texts[0] and "stream" in texts[0]
        assert "(unmatched)" in texts[1] and "400" in texts[1]
        assert "capitals" in texts[2] and "200" in texts[2]

        body = driver.find_element(By.TAG_NAME, "body")
        body.send_keys("j")  # the newest row: the stream
        body.send_keys(Keys.ENTER)
        wait.until(lambda d: _opened(d)[0] == ids["stream"])
        detail = _opened(driver)[1]
        assert "Paris is the capital of France." in detail  # the assembled reply
        assert "scenario capitals, step rules[0]" in detail and "stream timeline" in detail.lower()
        folded = driver.execute_script(
            "return [...document.querySelectorAll('#detail details')].map(d => d.textContent).join(' ')"
        )
        assert "x-api-key" in folded and "secr…" in folded and "secret-key-123" not in folded  # masked

        body.send_keys("j")  # down to the unmatched one: its near miss and first failed condition
        body.send_keys(Keys.ENTER)
        wait.until(lambda d: _opened(d)[0] == ids["unmatched"])
        assert "capitals failed at match: last_user" in _opened(driver)[1]

        body.send_keys("k")
        body.send_keys(Keys.ENTER)
        wait.until(lambda d: _opened(d)[0] == ids["stream"])
        driver.find_element(By.ID, "save").click()
        saved = tmp_path / "downloads" / f"{ids['stream']}.yaml"
        wait.until(lambda _: saved.exists() and saved.stat().st_size > 0)
        shown = wait.until(
            lambda d: d.execute_script("return document.getElementById('saved-yaml')?.innerText")
        )
        assert shown.strip() == saved.read_text().strip()

        body.send_keys("/")
        assert driver.switch_to.active_element.get_attribute("id") == "f-text"
        driver.switch_to.active_element.send_keys("Nobody")
        wait.until(lambda d: len(_rows(d)) == 1)
        screenshot = os.environ.get("MOCKBAY_INSPECTOR_SCREENSHOT")
        if screenshot:
            driver.find_element(By.ID, "f-text").clear()
            driver.save_screenshot(screenshot)

    assert main(["validate", str(saved)]) == 0
    with MockServer([saved]) as fresh:
        original = _answer(fresh.url, "/v1/messages", ASKS["stream"])
    with MockServer([tmp_path / "capitals.yaml"]) as again:
        expected = _answer(again.url, "/v1/messages", ASKS["stream"])
    assert original[:2] == expected[:2]


def test_the_page_follows_the_admin_access_rule(tmp_path: Path) -> None:
    with MockServer([], admin_token="sesame") as server:
        assert httpx.get(f"{server.url}/_mockbay/ui").status_code == 404
        page = httpx.get(f"{server.url}/_mockbay/ui", params={"token": "sesame"})
        assert page.status_code == 200 and "mockbay inspector" in page.text
        assert "<script src" not in page.text and "http" not in page.headers["content-security-policy"]
        assert httpx.get(f"{server.url}/_mockbay/requests", headers=HEADERS).status_code == 404
