"""The Snakemake HTML report of a default run, opened in headless Chromium (selenium + chromedriver).

Checks what a reader sees: no JavaScript errors, the front page and the summary page with the primary
result, the Kaplan-Meier and forest figures displayed (natural width > 0), a sortable table page, and no
network request (the report must work offline: the browser cannot resolve any host). Screenshots go to
test-artifacts/ (or $SELFSEED_TEST_ARTIFACTS). Skipped when chromium or chromedriver is not installed
(`.ci/browser.sh` installs them).
"""

import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_workflow import default_config, snakemake, workdir

from conftest import REPO

CHROMIUM = next(
    (shutil.which(n) for n in ("chromium", "chromium-browser") if shutil.which(n)), None
)
CHROMEDRIVER = shutil.which("chromedriver")
STYLESHEET = "workflow/report/report.css"
ARTIFACTS = Path(os.environ.get("SELFSEED_TEST_ARTIFACTS", REPO / "test-artifacts"))

pytestmark = [
    pytest.mark.browser,
    pytest.mark.workflow,
    pytest.mark.skipif(
        not (CHROMIUM and CHROMEDRIVER),
        reason="chromium and chromium-driver are not installed (apt-get install chromium "
        "chromium-driver, or run .ci/browser.sh)",
    ),
]


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """A default run and its report, built as `make report` does."""
    path = workdir(tmp_path_factory.mktemp("browser"), default_config())
    result = snakemake(path)
    assert result.returncode == 0, result.stderr[-3000:]
    start = time.perf_counter()
    result = snakemake(path, "--report", "report.html", "--report-stylesheet", STYLESHEET)
    assert result.returncode == 0, result.stderr[-3000:]
    print(
        f"report built in {time.perf_counter() - start:.1f} s, "
        f"{(path / 'report.html').stat().st_size / 1e6:.1f} MB"
    )
    return path


@pytest.fixture(scope="module")
def browser():
    pytest.importorskip("selenium", reason="selenium is not installed (make dev)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="selfseed-chromium-")
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={profile}",
        "--window-size=1600,1000",
        "--host-resolver-rules=MAP * ~NOTFOUND",  # offline: no host name resolves
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.set_page_load_timeout(60)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def open_report(driver, path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get((path / "report.html").as_uri())
    WebDriverWait(driver, 30).until(
        lambda d: d.find_elements(By.XPATH, "//nav//*[text()='0 Summary']")
    )


def console_errors(driver):
    """SEVERE browser console entries since the last call (warnings are printed, not failed)."""
    entries = driver.get_log("browser")
    for entry in entries:
        if entry["level"] != "SEVERE":
            print("console", entry["level"], entry["message"][:200])
    return [entry for entry in entries if entry["level"] == "SEVERE"]


def requested_urls(driver):
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def click(driver, xpath):
    """Click the element at `xpath` once it is in view and no menu item moving into place covers
    it (the report's menu animates as categories open; a long menu scrolls)."""
    from selenium.common.exceptions import ElementClickInterceptedException
    from selenium.webdriver.common.by import By

    element = driver.find_element(By.XPATH, xpath)
    for _ in range(20):
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", element)
        try:
            element.click()
            break
        except ElementClickInterceptedException:
            time.sleep(0.2)
    else:
        element.click()  # the error, with what covers the element
    time.sleep(0.3)


def show_result(driver, category, label, subcategory=None):
    """Click a category (and subcategory) in the menu, then the eye button of the row with `label`."""
    click(driver, f"//nav//*[text()='{category}']")
    if subcategory:
        click(driver, f"//nav//*[text()='{subcategory}']")
    click(driver, f"//nav//tr[td[contains(., '{label}')]]//a[@iconname='eye']")


def shown_image(driver):
    """naturalWidth and on-screen top (px) of the figure shown in the report's content area."""
    from selenium.webdriver.support.ui import WebDriverWait

    script = (
        "var img = document.querySelector('#app div.p-3 > img[src^=\"data:image/png\"]');"
        "return img && img.complete ? [img.naturalWidth, img.getBoundingClientRect().top] : [-1, 0];"
    )
    WebDriverWait(driver, 20).until(lambda d: d.execute_script(script)[0] > 0)
    return driver.execute_script(script)


def test_front_page_loads_offline_without_errors(report, browser):
    from selenium.webdriver.common.by import By

    open_report(browser, report)
    text = browser.find_element(By.TAG_NAME, "body").text
    assert "self-seeding" in text
    assert "local" in text
    assert "self_seeding signature" in text.replace("\n", " ")  # the declared primary analysis
    assert "0 Summary" in text
    assert "Kaplan-Meier" in text
    assert "Forest plot" in text
    browser.save_screenshot(str(ARTIFACTS / "report_landing.png"))
    assert console_errors(browser) == []
    external = [u for u in requested_urls(browser) if u.startswith(("http:", "https:", "ws"))]
    assert external == [], external  # self-contained: nothing fetched from the network


def test_summary_page_shows_the_primary_result(report, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    primary = pd.read_csv(report / "results" / "tables" / "primary.tsv", sep="\t")
    statement = primary.loc[0, "statement"]
    open_report(browser, report)
    show_result(browser, "0 Summary", "primary result")
    frame = WebDriverWait(browser, 20).until(lambda d: d.find_element(By.TAG_NAME, "iframe"))
    browser.switch_to.frame(frame)
    try:
        shown = (
            WebDriverWait(browser, 20)
            .until(lambda d: d.find_element(By.ID, "primary-statement"))
            .text
        )
        page = browser.find_element(By.TAG_NAME, "body").text
        forest = browser.execute_script(
            "var i = document.querySelector('img.figure'); return i ? i.naturalWidth : -1;"
        )
    finally:
        browser.switch_to.default_content()
    browser.save_screenshot(str(ARTIFACTS / "report_summary.png"))
    assert shown == statement
    assert "pooled HR per SD" in page
    assert "I²" in page
    assert "95% prediction interval" in page
    assert "pooled sHR per SD" in page
    for label in primary["label"]:  # the sensitivity rows beside the primary result
        assert label in page
    assert primary.loc[primary["role"] == "locality", "statement"].item() in page
    for cohort, n in {"tcga_ucs": 50, "tcga_acc": 79, "tcga_chol": 36}.items():
        assert cohort in page
        assert str(n) in page
    assert "Skipped analyses" in page
    assert "no treatment column configured" in page
    assert forest > 0
    assert console_errors(browser) == []


@pytest.mark.parametrize(
    ("category", "subcategory", "label", "name"),
    [
        ("Kaplan-Meier", "tcga_ucs", "tcga_ucs", "km"),
        ("Forest plot", "all signatures", "all", "forest"),
        ("Scores", "agreement between methods", "score correlation", "correlation"),
    ],
)
def test_figures_are_displayed(report, browser, category, subcategory, label, name):
    open_report(browser, report)
    show_result(browser, category, label, subcategory)
    width, top = shown_image(browser)
    browser.save_screenshot(str(ARTIFACTS / f"report_{name}.png"))
    assert width > 1000  # 150 dpi figures, 7 to 10 inches wide
    assert top >= 0  # title and legend visible: report.css keeps a tall figure scrollable
    assert console_errors(browser) == []


def test_table_page_sorts_and_filters(report, browser):
    from selenium.webdriver.common.by import By

    browser.get((report / "results" / "report" / "tables" / "cox.html").as_uri())
    rows = browser.find_elements(By.CSS_SELECTOR, "table.sortable tbody tr")
    cox = pd.read_csv(report / "results" / "tables" / "cox.tsv", sep="\t")
    assert len(rows) == len(cox)
    headers = browser.find_elements(By.CSS_SELECTOR, "table.sortable th")
    column = [h.text for h in headers].index("hr")
    headers[column].click()
    first = browser.find_element(By.CSS_SELECTOR, "table.sortable tbody tr td.num[data-v]")
    values = browser.execute_script(
        f"return Array.from(document.querySelectorAll('table.sortable tbody tr'))"
        f".map(r => parseFloat(r.cells[{column}].dataset.v));"
    )
    assert first is not None
    assert values == sorted(values)
    browser.find_element(By.ID, "filter").send_keys("tcga_chol")
    visible = [r for r in browser.find_elements(By.CSS_SELECTOR, "tbody tr") if r.is_displayed()]
    assert len(visible) == (cox["cohort"] == "tcga_chol").sum()
    assert console_errors(browser) == []


# Each payload would set window.pwned (or the page title) if the text reached HTML as markup, or a
# <script> element's text unescaped (Snakemake's report embeds rule params and results in <script>).
PAYLOAD = "</script><img src=x onerror=window.pwned=1><script>window.pwned=1;document.title='pwned'</script>"


@pytest.fixture(scope="module")
def payload_report(tmp_path_factory, gse1992):
    """A run whose config carries the payload in every free-text field (cohort description,
    endpoint label, event codes, missing values, covariate and treatment columns, signature
    genes, the single-cell reference's description) and its report."""
    from test_workflow import config_with, own_table_cohort

    path = tmp_path_factory.mktemp("payload")
    entry = own_table_cohort(path, gse1992)
    clinical = pd.read_csv(path / "clinical.tsv", sep="\t")
    column = f"er {PAYLOAD}"
    clinical = clinical.rename(columns={"er": column}).assign(
        status=clinical["status"].replace({"relapse": f"relapse {PAYLOAD}"}),
        radiotherapy=np.where(np.arange(len(clinical)) % 2, f"yes {PAYLOAD}", "no"),
    )
    clinical.loc[3, "status"] = PAYLOAD  # listed in missing_values
    clinical.to_csv(path / "clinical.tsv", sep="\t", index=False)
    entry.update(
        description=f"my cohort {PAYLOAD}",
        missing_values=["missing", PAYLOAD],
        covariates=[{"name": "er_positive", "column": column, "type": "categorical"}],
        treatment={"name": "radiotherapy", "column": "radiotherapy"},
    )
    entry["endpoint"].update(
        label=f"relapse-free survival {PAYLOAD}", event_values=[f"relapse {PAYLOAD}"]
    )
    config = config_with({"mine": entry})
    config["signatures"] = {**config["signatures"], "payload": ["IL6", "CXCL8", PAYLOAD]}
    config["singlecell"]["references"]["wu2021_CID4465"]["description"] = f"reference {PAYLOAD}"
    workdir(path, config)
    result = snakemake(path)
    assert result.returncode == 0, result.stderr[-3000:]
    result = snakemake(path, "--report", "report.html", "--report-stylesheet", STYLESHEET)
    assert result.returncode == 0, result.stderr[-3000:]
    return path


def assert_payload_inert(driver):
    """No payload ran in the current document, and every image there is a figure of ours."""
    assert driver.execute_script("return typeof window.pwned") == "undefined"
    assert driver.title != "pwned"
    images = driver.execute_script(
        "return Array.from(document.images).map(i => i.getAttribute('src').slice(0, 15))"
    )
    assert all(src.startswith("data:image/") for src in images), images


def test_config_text_never_runs_as_script_in_the_report(payload_report, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    assert "</script><img" not in (payload_report / "report.html").read_text()  # only escaped
    open_report(browser, payload_report)  # the report's own scripts still run
    assert_payload_inert(browser)
    show_result(browser, "0 Summary", "primary result")
    frame = WebDriverWait(browser, 20).until(lambda d: d.find_element(By.TAG_NAME, "iframe"))
    browser.switch_to.frame(frame)
    try:
        page = WebDriverWait(browser, 20).until(lambda d: d.find_element(By.TAG_NAME, "body")).text
        assert_payload_inert(browser)
    finally:
        browser.switch_to.default_content()
    assert f"my cohort {PAYLOAD}" in page  # shown as text
    assert f"relapse-free survival {PAYLOAD}" in page
    pages = payload_report / "results" / "report"
    for name in (
        "tables/cohorts.html",
        "tables/coverage.html",
        "tables/cox.html",
        "provenance.html",
        "cells.html",
    ):
        browser.get((pages / name).as_uri())
        assert_payload_inert(browser)
        assert PAYLOAD in browser.find_element(By.TAG_NAME, "body").text, name
    assert console_errors(browser) == []
