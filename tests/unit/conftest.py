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
