"""Svenska in the lab's real Horizon, whose settings list no Swedish.

The lab writes a stock ``local_settings.py`` (no ``LANGUAGES``): the plugin
adds Swedish to Horizon's list, so a user can pick it in User Settings and
a browser asking for Swedish gets it.
"""

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select

from tests.browser.conftest import Browser
from tests.browser.conftest import browser_login
from tests.browser.conftest import wait_for
from tests.browser.conftest import wait_until

pytestmark = pytest.mark.browser


@pytest.fixture
def own_browser():
    """A browser of the test's own: its language must not leak to others."""
    opened = []

    def start(language=None):
        opened.append(Browser(language=language))
        return opened[-1].driver

    yield start
    for each in opened:
        each.quit()


def heading(driver):
    return wait_for(driver, (By.CSS_SELECTOR, '.page-header h1')).text


def pick(driver, select_id, value):
    """Choose in a select, or in the themable dropdown Horizon shows."""
    select = driver.find_element(By.ID, select_id)
    if select.is_displayed():
        Select(select).select_by_value(value)
        return
    group = select.find_element(By.XPATH, './..')
    group.find_element(By.CSS_SELECTOR, '.dropdown-toggle').click()
    wait_for(driver, (By.CSS_SELECTOR,
                      '[data-select-value="%s"]' % value)).click()


def test_a_user_who_picks_svenska_sees_the_billing_pages_in_swedish(
        real_lab, own_browser):
    carol = own_browser()
    browser_login(carol, real_lab.url, 'carol')
    carol.get(real_lab.url + '/settings/')
    form = wait_for(carol, (By.ID, 'user_settings_modal'))
    options = [option.get_attribute('value') for option in
               form.find_elements(By.CSS_SELECTOR, '#id_language option')]
    assert 'sv' in options
    pick(carol, 'id_language', 'sv')
    button = form.find_element(By.CSS_SELECTOR, '[type=submit]')
    button.click()
    wait_until(carol, EC.staleness_of(button))

    carol.get(real_lab.url + '/identity/invoices/')
    assert heading(carol) == 'Fakturor'
    assert 'Fakturanr' in wait_for(carol, (By.ID, 'invoices')).text
    carol.get(real_lab.url + '/settings/account/')
    assert heading(carol) == 'Kontoinställningar'
    assert carol.find_element(By.LINK_TEXT, 'Kundinformation')


def test_a_browser_asking_for_swedish_gets_it(real_lab, own_browser):
    dave = own_browser(language='sv')
    browser_login(dave, real_lab.url, 'dave')
    dave.get(real_lab.url + '/identity/invoices/')
    assert heading(dave) == 'Fakturor'
    dave.get(real_lab.url + '/settings/account/')
    assert heading(dave) == 'Kontoinställningar'
