"""Headless Debian Chromium through Selenium, with a screenshot on failure."""

import os
import shutil
import tempfile

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

ARTIFACTS = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), 'test-artifacts')
CHROMIUM = os.environ.get('CHROMIUM_BIN', '/usr/bin/chromium')
CHROMEDRIVER = os.environ.get('CHROMEDRIVER_BIN', '/usr/bin/chromedriver')

# The machine's network is closed: background traffic only fails slowly.
CHROMIUM_FLAGS = [
    '--headless=new', '--no-sandbox', '--disable-gpu',
    '--disable-dev-shm-usage', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run',
    '--window-size=1400,1000',
]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    driver = getattr(item, 'funcargs', {}).get('browser')
    if report.failed and call.when == 'call' and driver is not None:
        os.makedirs(ARTIFACTS, exist_ok=True)
        path = os.path.join(ARTIFACTS, item.name + '.png')
        driver.save_screenshot(path)
        report.sections.append(('screenshot', path))


@pytest.fixture
def browser():
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.path.exists(path):
            pytest.fail('%s is missing: install the Debian packages chromium '
                        'and chromium-driver (tools/ensure-browser does).'
                        % path)
    profile = tempfile.mkdtemp(prefix='chromium-')
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS + ['--user-data-dir=' + profile]:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.implicitly_wait(0)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def wait_for(driver, locator, timeout=60):
    return WebDriverWait(driver, timeout).until(
        EC.visibility_of_element_located(locator))


def browser_login(driver, base_url, username, password='demo'):
    """Log in through Horizon's login page, as a person would."""
    driver.get(base_url + '/auth/login/')
    wait_for(driver, (By.ID, 'id_username')).send_keys(username)
    driver.find_element(By.ID, 'id_password').send_keys(password)
    driver.find_element(By.CSS_SELECTOR, 'button[type=submit]').click()
    wait_for(driver, (By.CSS_SELECTOR, '.user-menu'))
