"""The invoice PDF in a long-lived process: fonts parsed once, no leaks.

``pdf.render`` keeps the parsed fonts for the life of the process (and of
forked workers); each rendering must still be its own document.
"""

import concurrent.futures
import multiprocessing
import os
import shutil

import pytest
from reportlab.pdfbase import ttfonts

from cleura_billing_dashboard import conf
from cleura_billing_dashboard import pdf
from cleura_billing_dashboard.pdf import render
from tests.unit.test_pdf import make_invoice
from tests.unit.test_pdf import pdf_text


@pytest.fixture
def own_fonts(tmp_path):
    """A fonts directory of copies no rendering in this process has used."""
    for name in render.FONT_FILES:
        shutil.copy(os.path.join(render.FONTS_DIR, name), tmp_path)
    settings = conf.get_conf()
    settings.set_override('fonts_dir', str(tmp_path), group='pdf')
    yield tmp_path
    settings.clear_override('fonts_dir', group='pdf')


@pytest.fixture
def parsed(monkeypatch):
    """The font files ReportLab parses, in order, while the test runs."""
    files = []

    class Counting(ttfonts.TTFontFace):
        def __init__(self, file, *args, **kwargs):
            files.append(os.path.basename(file))
            super().__init__(file, *args, **kwargs)

    # TTFont parses its file into this class, looked up in the module.
    monkeypatch.setattr(ttfonts, 'TTFontFace', Counting)
    return files


def two_invoices():
    first = make_invoice()
    second = make_invoice(number='2026-000999', currency='EUR')
    second['buyer'] = dict(second['buyer'], name='Andra Kunden Oy',
                           po_reference='PO-77')
    second['lines'] = [dict(line, description='Other %d' % n)
                       for n, line in enumerate(second['lines'])]
    return first, second


def test_the_fonts_are_parsed_once_per_process_and_directory(
        own_fonts, parsed):
    pdf.render_invoice_pdf(make_invoice())
    assert parsed == list(render.FONT_FILES)

    pdf.render_invoice_pdf(make_invoice(number='2026-000124'))
    pdf.render_invoice_pdf(make_invoice(), language='sv')

    assert parsed == list(render.FONT_FILES)


def test_a_missing_font_is_noticed_after_the_fonts_were_parsed(own_fonts):
    pdf.render_invoice_pdf(make_invoice())
    os.remove(own_fonts / 'DejaVuSans-Bold.ttf')

    with pytest.raises(pdf.FontsMissing, match='DejaVuSans-Bold.ttf'):
        pdf.render_invoice_pdf(make_invoice())


def test_invoices_rendered_in_turn_keep_their_own_text_and_bytes():
    first, second = two_invoices()
    alone = [pdf.render_invoice_pdf(first), pdf.render_invoice_pdf(second)]

    in_turn = [pdf.render_invoice_pdf(invoice)
               for invoice in (first, second, first, second)]

    assert in_turn == alone * 2
    assert alone[0] != alone[1]
    first_text, second_text = pdf_text(alone[0]), pdf_text(alone[1])
    assert 'Example Kund AB' in first_text
    assert 'Andra Kunden Oy' not in first_text
    assert 'Other 0' not in first_text and 'PO-77' not in first_text
    assert 'Andra Kunden Oy' in second_text and 'PO-77' in second_text
    assert 'Example Kund AB' not in second_text
    assert 'Flavor b.2c4gb' not in second_text


def test_threads_rendering_at_once_get_the_bytes_of_one_at_a_time():
    first, second = two_invoices()
    expected = [pdf.render_invoice_pdf(first), pdf.render_invoice_pdf(second)]
    invoices = [first, second] * 8

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        rendered = list(pool.map(pdf.render_invoice_pdf, invoices))

    assert rendered == expected * 8


def _render_in_child(invoice):
    return pdf.render_invoice_pdf(invoice), sorted(render._FONTS.values())


def test_a_forked_worker_uses_the_parsed_fonts_and_renders_the_same():
    first, second = two_invoices()
    expected = [pdf.render_invoice_pdf(first), pdf.render_invoice_pdf(second)]
    registered = sorted(render._FONTS.values())

    with concurrent.futures.ProcessPoolExecutor(
            2, mp_context=multiprocessing.get_context('fork')) as pool:
        results = list(pool.map(_render_in_child, [first, second]))

    assert [data for data, _ in results] == expected
    # Nothing parsed or registered again in the children.
    assert all(fonts == registered for _, fonts in results)


def test_fonts_loaded_ahead_are_the_ones_rendering_uses(own_fonts, parsed):
    pdf.load_fonts()
    assert parsed == list(render.FONT_FILES)

    pdf.render_invoice_pdf(make_invoice())

    assert parsed == list(render.FONT_FILES)


def test_loading_fonts_ahead_refuses_a_directory_without_them(own_fonts):
    os.remove(own_fonts / 'DejaVuSans.ttf')

    with pytest.raises(pdf.FontsMissing, match='DejaVuSans.ttf'):
        pdf.load_fonts()


def test_reportlab_renders_with_its_c_accelerators():
    """rl_accel is a requirement.

    Without it ReportLab falls back to Python for number formatting and
    text widths (a tenth of a render).
    """
    from reportlab.lib import rl_accel
    assert {'fp_str', 'instanceStringWidthTTF', 'escapePDF'} <= set(
        getattr(rl_accel, '_c_funcs', {}))
