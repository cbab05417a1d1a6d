from django.db import migrations, models


class Migration(migrations.Migration):
    """A Checkout Session pays once: the reference of its one payment.

    Sessions paid before this migration have none; the first payment
    reported for them after it claims them.
    """

    dependencies = [
        ('cleura_billing_payments', '0001_initial'),
    ]

    operations = [
        migrations.AddField(
            model_name='checkoutsession',
            name='payment_reference',
            field=models.CharField(blank=True, max_length=128, null=True),
        ),
        migrations.AddConstraint(
            model_name='checkoutsession',
            constraint=models.UniqueConstraint(fields=('provider', 'payment_reference'), name='cleura_checkout_payment_once'),
        ),
    ]
