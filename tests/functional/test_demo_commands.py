"""The demo's operator wrapper and sample usage, as README.rst shows them.

``tools/demo.py`` writes ``.demo/django-admin`` (django-admin with the
running Horizon's environment) and ``.demo/usage.json``; an operator trying
the demo issues a period with them and sees the invoice in the panel.
"""

import re
import subprocess

import pytest

from tools.lab import demo_data

pytestmark = pytest.mark.functional


def test_the_wrapper_issues_the_sample_usage_once(real_lab, tmp_path):
    manage = tmp_path / 'django-admin'
    usage = tmp_path / 'usage.json'
    real_lab.horizon.write_manage_script(str(manage))
    demo_data.write_sample_usage(real_lab.keystone, str(usage))

    def run():
        return subprocess.run([str(manage), 'billing_issue', '--usage',
                               str(usage), '--period', '2036-08'],
                              capture_output=True, text=True, check=True)

    first = run()
    numbers = re.findall(r'^Issued (\S+) to \S+: SEK\S+$', first.stdout,
                         re.M)
    assert len(numbers) == 2, first.stdout + first.stderr   # acme, globex
    assert 'Traceback' not in first.stderr
    again = run()
    assert 'Issued' not in again.stdout
    assert 'already has an invoice for 2036-08' in again.stdout

    alice = real_lab.login('alice')   # acme's manager
    index = alice.get(real_lab.url + '/identity/invoices/', timeout=60)
    assert any(number in index.text for number in numbers)
