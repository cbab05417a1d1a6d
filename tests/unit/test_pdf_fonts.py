"""[pdf] fonts_dir: the system's DejaVu fonts instead of the bundled copies."""

import datetime
import io
import os
import shutil

from django.core.management import call_command
from django.core.management import CommandError
import pypdf
import pytest

from cleura_billing_dashboard.billing import issue
from cleura_billing_dashboard.billing.models import Invoice
from cleura_billing_dashboard import conf
from cleura_billing_dashboard import pdf
from cleura_billing_dashboard.pdf import render
from tests import factories
from tests.unit.test_pdf import make_invoice

# Debian's and Ubuntu's fonts-dejavu-core; .ci/run installs it.
SYSTEM_FONTS = '/usr/share/fonts/truetype/dejavu'
TODAY = datetime.date(2026, 11, 3)


@pytest.fixture
def fonts_dir():
    """Set [pdf] fonts_dir for one test."""
    settings = conf.get_conf()

    def set_fonts_dir(path):
        settings.set_override('fonts_dir', path, group='pdf')

    yield set_fonts_dir
    settings.clear_override('fonts_dir', group='pdf')


def embedded_fonts(data):
    """Base names of the TrueType fonts embedded in the PDF's first page."""
    reader = pypdf.PdfReader(io.BytesIO(data))
    fonts = [font.get_object() for font
             in reader.pages[0]['/Resources']['/Font'].values()]
    return sorted(font['/BaseFont'].split('+')[-1] for font in fonts
                  if '/FontFile2' in font.get('/FontDescriptor', {}))


def test_by_default_the_bundled_fonts_are_read(fonts_dir):
    assert render.fonts_dir() == render.FONTS_DIR
    fonts_dir('')
    assert render.fonts_dir() == render.FONTS_DIR


def test_the_systems_dejavu_fonts_are_embedded(fonts_dir):
    for name in render.FONT_FILES:
        assert os.path.isfile(os.path.join(SYSTEM_FONTS, name)), (
            'the system DejaVu fonts are missing: '
            'apt-get install fonts-dejavu-core')
    fonts_dir(SYSTEM_FONTS)

    data = pdf.render_invoice_pdf(make_invoice())

    assert embedded_fonts(data) == ['DejaVuSans', 'DejaVuSans-Bold']


def test_symlinked_fonts_are_followed_to_the_two_files(fonts_dir, tmp_path):
    for name in render.FONT_FILES:
        (tmp_path / name).symlink_to(os.path.join(render.FONTS_DIR, name))
    (tmp_path / 'secret.txt').write_text('no')
    fonts_dir(str(tmp_path))

    paths = render._font_paths(str(tmp_path))

    # The files themselves, nothing beside them: a rendering reads these.
    assert paths == tuple(os.path.realpath(os.path.join(render.FONTS_DIR,
                                                        name))
                          for name in render.FONT_FILES)
    assert embedded_fonts(pdf.render_invoice_pdf(make_invoice())) == [
        'DejaVuSans', 'DejaVuSans-Bold']


def test_a_directory_without_the_fonts_is_refused_and_logged(
        fonts_dir, tmp_path, caplog):
    shutil.copy(os.path.join(render.FONTS_DIR, 'DejaVuSans.ttf'), tmp_path)
    fonts_dir(str(tmp_path))

    with pytest.raises(pdf.FontsMissing) as raised:
        pdf.render_invoice_pdf(make_invoice())

    message = str(raised.value)
    assert str(tmp_path) in message
    assert 'DejaVuSans-Bold.ttf' in message
    assert 'DejaVuSans.ttf' not in message.replace('DejaVuSans-Bold', '')
    assert [(record.levelname, record.getMessage())
            for record in caplog.records
            if record.name == render.LOG.name] == [('ERROR', message)]


def test_a_directory_that_does_not_exist_is_refused(fonts_dir, tmp_path):
    fonts_dir(str(tmp_path / 'nowhere'))

    with pytest.raises(pdf.FontsMissing,
                       match='DejaVuSans.ttf, DejaVuSans-Bold.ttf'):
        pdf.render_invoice_pdf(make_invoice())


def test_no_invoice_is_issued_half_way_without_the_fonts(fonts_dir, tmp_path,
                                                         db):
    usage = factories.parsed_usage({'proj-a': [factories.line('ip', '1',
                                                              '20')]})
    fonts_dir(str(tmp_path))

    with pytest.raises(pdf.FontsMissing):
        issue.issue_invoices_for_period(usage, '2026-10', today=TODAY)
    assert not Invoice.objects.exists()

    fonts_dir('')
    rerun = issue.issue_invoices_for_period(usage, '2026-10', today=TODAY)
    # The failed run took no number: the series has no gap.
    assert [i.number for i in rerun.issued] == ['2026-000001']


def test_billing_issue_says_which_fonts_are_missing(fonts_dir, tmp_path, db):
    path = factories.usage_file(tmp_path, factories.usage(
        {'proj-a': [factories.line()]}, period='2026-10'))
    fonts_dir(str(tmp_path / 'nowhere'))
    out, err = io.StringIO(), io.StringIO()

    with pytest.raises(CommandError, match='DejaVuSans-Bold.ttf'):
        call_command('billing_issue', '--usage', path, stdout=out,
                     stderr=err)
    assert not Invoice.objects.exists()
