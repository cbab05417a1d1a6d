"""Payment providers' notifications (webhooks), served without login.

Horizon requires a login for every panel of a dashboard unless the
dashboard is ``public``, so the webhooks live in a public dashboard of
their own that shows in no menu: ``/cleura-billing/<provider>/webhook/``.
Enabled by ``enabled/_3090_cleura_billing_webhooks.py``.
"""
