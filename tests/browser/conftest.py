"""Headless Debian Chromium through Selenium, with a screenshot on failure.

One logged-in browser per user, shared by every test of the session
(``as_user('alice')``): logging in costs a Keystone round trip and a page,
and a person keeps their browser open too. Each test starts by opening the
page it needs, so what the last test left on screen does not matter.
"""

import os
import shutil
import tempfile

import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.common.exceptions import WebDriverException
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
    if not (report.failed and call.when == 'call'):
        return
    drivers = dict(getattr(item, '_browsers_used', {}))
    driver = getattr(item, 'funcargs', {}).get('browser')
    if driver is not None:
        drivers['browser'] = driver
    for who, driver in drivers.items():
        os.makedirs(ARTIFACTS, exist_ok=True)
        path = os.path.join(ARTIFACTS, '%s-%s.png' % (item.name, who))
        try:
            driver.save_screenshot(path)
        except Exception:  # a dead browser has no screenshot to give
            continue
        report.sections.append(('screenshot', path))
    # What the lab's Horizon said meanwhile (tracebacks, slow requests).
    lab = getattr(item, 'funcargs', {}).get('real_lab')
    log = getattr(getattr(getattr(lab, 'horizon', None), 'process', None),
                  'log', None)
    if log and os.path.exists(log):
        with open(log, errors='replace') as f:
            report.sections.append(('lab Horizon log (last 80 lines)',
                                    ''.join(f.readlines()[-80:])))


class Browser(object):
    """A Chromium with its own profile and download folder."""

    def __init__(self, language=None):
        for path in (CHROMIUM, CHROMEDRIVER):
            if not os.path.exists(path):
                pytest.fail('%s is missing: install the Debian packages '
                            'chromium and chromium-driver '
                            '(tools/ensure_browser.py does).' % path)
        self.profile = tempfile.mkdtemp(prefix='chromium-')
        self.downloads = os.path.join(self.profile, 'downloads')
        os.makedirs(self.downloads)
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in CHROMIUM_FLAGS + ['--user-data-dir=' + self.profile]:
            options.add_argument(flag)
        if language:
            options.add_argument('--lang=' + language)
        prefs = {'download.default_directory': self.downloads,
                 'download.prompt_for_download': False,
                 # No preconnects: an idle socket Chromium opens ahead
                 # holds one of the lab Horizon's sync gunicorn workers
                 # until it times out, so a webhook the stand-in sends
                 # while the page waits can find every worker taken.
                 'net.network_prediction_options': 2}
        if language:
            prefs['intl.accept_languages'] = language
        options.add_experimental_option('prefs', prefs)
        self.driver = webdriver.Chrome(service=Service(CHROMEDRIVER),
                                       options=options)
        self.driver.implicitly_wait(0)

    def quit(self):
        self.driver.quit()
        shutil.rmtree(self.profile, ignore_errors=True)


@pytest.fixture
def browser():
    """A fresh browser of its own, for a test that must start logged out."""
    fresh = Browser()
    yield fresh.driver
    fresh.quit()


@pytest.fixture(scope='session')
def _browser_pool(real_lab):
    pool = {}
    yield pool
    for opened in pool.values():
        opened.quit()


@pytest.fixture
def as_user(real_lab, _browser_pool, request):
    """``as_user(name)``: that user's browser, logged in once a session."""
    used = request.node._browsers_used = {}

    def get(username, password='demo'):
        if username not in _browser_pool:
            opened = Browser()
            browser_login(opened.driver, real_lab.url, username, password)
            opened.driver.downloads = opened.downloads
            _browser_pool[username] = opened
        driver = _browser_pool[username].driver
        used[username] = driver
        return driver

    return get


def wait_for(driver, locator, timeout=60):
    return wait_until(driver, EC.visibility_of_element_located(locator),
                      timeout)


def _between_pages(error):
    # Chromium's answer for an element of the document being replaced,
    # before Selenium calls it stale.
    return 'does not belong to the document' in (error.msg or '')


def wait_until(driver, condition, timeout=60):
    # A page may reload under the condition: an element found just before
    # the reload is stale by the time it is read; look again.
    def settled(d):
        try:
            return condition(d)
        except StaleElementReferenceException:
            return False
        except WebDriverException as e:
            if _between_pages(e):
                return False
            raise
    return WebDriverWait(driver, timeout).until(settled)


def browser_login(driver, base_url, username, password='demo'):
    """Log in through Horizon's login page, as a person would."""
    driver.get(base_url + '/auth/login/')
    wait_for(driver, (By.ID, 'id_username')).send_keys(username)
    driver.find_element(By.ID, 'id_password').send_keys(password)
    driver.find_element(By.CSS_SELECTOR, 'button[type=submit]').click()
    wait_for(driver, (By.CSS_SELECTOR, '.user-menu'))


def tab(name):
    """The locator of the page's tab called ``name`` (not a menu link)."""
    return (By.XPATH, '//ul[contains(@class, "nav-tabs")]//a[normalize-space()'
                      '="%s"]' % name)


def choose(form, name, value):
    """Click the label of a radio button (Horizon's themed ones hide it)."""
    radio = form.find_element(By.CSS_SELECTOR, 'input[name=%s][value=%s]'
                              % (name, value))
    form.find_element(By.CSS_SELECTOR, 'label[for=%s]'
                      % radio.get_attribute('id')).click()


def messages(driver):
    """The texts of Horizon's toast messages now on the page."""
    return [element.text for element in driver.find_elements(
        By.CSS_SELECTOR, '.messages .alert')]


def wait_for_message(driver, text, timeout=60):
    """Wait for a Horizon message containing ``text``; return its text."""
    def found(d):
        return next((m for m in messages(d) if text in m), False)
    return wait_until(driver, found, timeout)
