from django.db import models


class AccountLock(models.Model):
    """A row per project that billing-account writes queue on.

    Keystone has no conditional update; holding this row locked from the
    revision check to the Keystone write makes the check-and-write atomic
    across Horizon processes and hosts sharing the database.
    """

    project_id = models.CharField(max_length=64, primary_key=True)
    writes = models.PositiveBigIntegerField(default=0)

    class Meta(object):
        # The table of the app the model came from: moving it kept the rows.
        db_table = 'cleura_billing_dashboard_accountlock'
