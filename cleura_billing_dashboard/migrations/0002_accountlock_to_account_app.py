# AccountLock moved to the cleura_billing_account app. Its table stays as
# it is (the model keeps db_table): only Django's state forgets it here.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('cleura_billing_dashboard', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name='AccountLock')],
        ),
    ]
