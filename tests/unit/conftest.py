import time

from django.conf import settings
from django.utils import translation
import pytest


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the default language, whatever the last asked.

    A request with Accept-Language leaves its language active in the
    thread after the test client returns.
    """
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(scope='session')
def validator():
    """The shared e-invoice validator (``tests/einvoice``), one per session.

    One SaxonC processor per process; each stylesheet and schema is
    compiled on first use and kept.
    """
    # Imported here, not skipped: without saxonche and lxml this fails.
    from tests.einvoice import validate
    started = time.monotonic()
    checker = validate.Validator()
    print('e-invoice validator started in %.2f s'
          % (time.monotonic() - started))
    return checker
