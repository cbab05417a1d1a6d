import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
    ]

    operations = [
        migrations.CreateModel(
            name='InvoiceMail',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('number', models.CharField(max_length=64, unique=True)),
                ('project_id', models.CharField(db_index=True, max_length=64)),
                ('language', models.CharField(default='en', max_length=16)),
                ('delivery', models.CharField(choices=[('attachment', 'PDF attached'), ('link', 'Link')], default='attachment', max_length=16)),
                ('summary', models.JSONField(default=dict)),
                ('pdf', models.BinaryField(blank=True, null=True)),
                ('filename', models.CharField(blank=True, max_length=128)),
                ('link', models.URLField(blank=True, max_length=500)),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
            ],
        ),
        migrations.CreateModel(
            name='Recipient',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('address', models.CharField(max_length=254)),
                ('state', models.CharField(choices=[('pending', 'Pending'), ('sending', 'Sending'), ('sent', 'Sent')], default='pending', max_length=16)),
                ('attempts', models.PositiveIntegerField(default=0)),
                ('next_attempt_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('claim', models.CharField(blank=True, max_length=32)),
                ('claimed_until', models.DateTimeField(blank=True, null=True)),
                ('last_error', models.TextField(blank=True)),
                ('sent_at', models.DateTimeField(blank=True, null=True)),
                ('mail', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='recipients', to='cleura_billing_notify.invoicemail')),
            ],
            options={
                'ordering': ['pk'],
                'indexes': [models.Index(fields=['state', 'next_attempt_at'], name='cleura_notify_due')],
                'constraints': [models.UniqueConstraint(fields=('mail', 'address'), name='cleura_notify_once_per_address')],
            },
        ),
    ]
