# AccountLock, moved here from the cleura_billing_dashboard app. The table
# exists already (that app's 0001 made it): state only, no SQL.

from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('cleura_billing_dashboard', '0002_accountlock_to_account_app'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='AccountLock',
                    fields=[
                        ('project_id', models.CharField(
                            max_length=64, primary_key=True,
                            serialize=False)),
                        ('writes', models.PositiveBigIntegerField(
                            default=0)),
                    ],
                    options={
                        'db_table': 'cleura_billing_dashboard_accountlock',
                    },
                ),
            ],
        ),
    ]
