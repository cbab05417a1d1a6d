"""WSGI entry of the lab's Horizon: Horizon's app plus its static files.

Production Horizon sits behind a web server that serves collected static
files; the lab has none, so Django's static files handler serves them
from the installed packages, as runserver --insecure would.
"""

from django.contrib.staticfiles.handlers import StaticFilesHandler

from openstack_dashboard.wsgi import application as horizon_application

application = StaticFilesHandler(horizon_application)
