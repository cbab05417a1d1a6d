"""Make sure the Debian packages the tests drive or read are installed.

The browser tests drive the distro's Chromium (browser downloads do not work
on the machines this project runs on); the PDF tests read the system's DejaVu
fonts (``[pdf] fonts_dir``); the PDF/A tests ask poppler's ``pdffonts``
which fonts a PDF embeds. Installs them with apt-get when
running as root or with password-less sudo; otherwise says what to install.
"""

import os
import shutil
import subprocess
import sys

NEEDED = {'chromium': '/usr/bin/chromium',
          'chromium-driver': '/usr/bin/chromedriver',
          'fonts-dejavu-core':
          '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf',
          'poppler-utils': '/usr/bin/pdffonts'}


def main():
    missing = [pkg for pkg, path in NEEDED.items() if not os.path.exists(path)]
    if not missing:
        return 0
    prefix = []
    if os.geteuid() != 0:
        if not shutil.which('sudo') or subprocess.run(
                ['sudo', '-n', 'true'], capture_output=True).returncode:
            sys.exit('The tests need the Debian packages %s: '
                     'apt-get install %s' % (', '.join(missing),
                                             ' '.join(missing)))
        prefix = ['sudo', '-n']
    env = dict(os.environ, DEBIAN_FRONTEND='noninteractive')
    subprocess.run(prefix + ['apt-get', 'update', '-qq'], check=True, env=env)
    subprocess.run(prefix + ['apt-get', 'install', '-y', '-qq'] + missing,
                   check=True, env=env)
    return 0


if __name__ == '__main__':
    sys.exit(main())
