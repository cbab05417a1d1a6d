"""Settings of the worker processes of the concurrency tests.

The test settings, pointed at the database the test prepared:
``CLEURA_CHILD_DB_NAME`` is the SQLite file, or the PostgreSQL/MySQL test
database pytest-django created.
"""

import os

from tests.settings import *  # noqa: F401,F403
from tests.settings import DATABASES

DATABASES['default']['NAME'] = os.environ['CLEURA_CHILD_DB_NAME']
