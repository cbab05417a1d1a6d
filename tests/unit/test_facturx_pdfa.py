"""The Factur-X PDF: every kind of invoice, its CII valid, as PDF/A-3b.

Each invoice is issued the way ``billing_issue`` issues it, rendered with
``pdf.render_invoice_pdf`` and made Factur-X with
``einvoice.facturx.make_facturx``; the validator of ``tests/einvoice``
reads ``factur-x.xml`` out of the PDF (pypdf) and checks it with CEN's
CII XSD and EN 16931 rules. The PDF/A-3 properties checked here are those
a test can read without veraPDF: fonts, XMP, output intent, attachment,
document information, identical bytes.
"""

import concurrent.futures
import datetime
import decimal
import io
import shutil
import subprocess

from lxml import etree
import pypdf
import pytest

from cleura_billing_dashboard.billing import issue
from cleura_billing_dashboard.einvoice import facturx
from cleura_billing_dashboard.pdf import render
from tests import factories
from tests.unit import einvoice_cases as cases

XMP_NS = {
    'rdf': 'http://www.w3.org/1999/02/22-rdf-syntax-ns#',
    'pdfaid': 'http://www.aiim.org/pdfa/ns/id/',
    'dc': 'http://purl.org/dc/elements/1.1/',
    'pdf': 'http://ns.adobe.com/pdf/1.3/',
    'xmp': 'http://ns.adobe.com/xap/1.0/',
    'pdfaSchema': 'http://www.aiim.org/pdfa/ns/schema#',
    'fx': facturx.FX_NAMESPACE,
}


def issued(kind, project_id='proj-a'):
    """(document, expected TypeCode) of one kind of invoice we issue."""
    buyer, lines = {
        'domestic': (cases.SWEDISH_BUYER, factories.instance_and_volume()),
        'reverse-charge': (cases.DE_BUSINESS,
                           factories.instance_and_volume()),
        'oss-consumer': (cases.FR_CONSUMER, factories.instance_and_volume()),
        'outside-eu': (cases.US_BUSINESS, factories.instance_and_volume()),
        'credit-note': (cases.SWEDISH_BUYER,
                        factories.instance_and_volume()),
        'several-rates': (cases.SWEDISH_BUYER, cases.several_rates()),
        'swedish-names': (cases.SWEDISH_UNICODE, [factories.line(
            'compute', description='Beräkning i Skövde')]),
        'greek-names': (cases.GREEK, [factories.line(
            'compute', description='Υπολογισμός')]),
        'html-like': (cases.HTML_LIKE, [factories.line(
            'compute', description='<i>a & b</i> "c" \'d\'')]),
        'long-descriptions': (cases.SWEDISH_BUYER, cases.long_lines()),
        'hundred-lines': (cases.SWEDISH_BUYER, cases.hundred_lines()),
        'no-optional-fields': (cases.MINIMAL_BUYER, None),
        'credit-applied': (None, None),
    }[kind]
    if kind == 'credit-applied':
        return cases.document_of(cases.with_credit(
            decimal.Decimal('200'), project_id)), '380'
    invoice = cases.issue_for(buyer, lines, project_id)
    if kind != 'credit-note':
        return cases.document_of(invoice), '380'
    note = issue.issue_credit_note(invoice.project_id, invoice, 'Wrong price',
                                   today=cases.TODAY)
    return cases.document_of(
        note, credits_issue_date=invoice.issue_date), '381'


def make(document):
    return facturx.make_facturx(render.render_invoice_pdf(document),
                                document)


def reader(data):
    return pypdf.PdfReader(io.BytesIO(data))


def fonts(data):
    """{base font: its descriptor's font file key} of every page's fonts."""
    found = {}
    for page in reader(data).pages:
        for font in page['/Resources']['/Font'].values():
            font = font.get_object()
            descriptor = font.get('/FontDescriptor')
            descriptor = descriptor.get_object() if descriptor else {}
            found[str(font['/BaseFont'])] = tuple(
                key for key in ('/FontFile', '/FontFile2', '/FontFile3')
                if key in descriptor)
    return found


def xmp_of(data):
    metadata = reader(data).trailer['/Root']['/Metadata'].get_object()
    return etree.fromstring(metadata.get_data())


def xmp_text(root, path):
    return root.findtext('.//' + path, namespaces=XMP_NS)


@pytest.mark.parametrize('kind', [
    'domestic', 'reverse-charge', 'oss-consumer', 'outside-eu',
    'credit-note', 'several-rates', 'swedish-names', 'greek-names',
    'html-like', 'long-descriptions', 'hundred-lines', 'no-optional-fields',
    'credit-applied'])
def test_every_kind_of_invoice_is_valid_factur_x(db, validator, tmp_path,
                                                 kind):
    document, type_code = issued(kind)
    data = make(document)
    path = tmp_path / ('%s.pdf' % kind)
    path.write_bytes(data)

    res = validator.validate(str(path))

    assert res['pdf_attachment'] == 'factur-x.xml'
    assert (res['syntax'], res['guideline']) == (
        'CII', 'urn:cen.eu:en16931:2017')
    assert [rule['name'] for rule in res['rules']] == ['EN16931 CII 1.3.16']
    problems = cases.problems(res)
    assert not problems, '\n'.join(problems)
    assert res['valid']
    xml = etree.fromstring(reader(data).attachments['factur-x.xml'][0])
    assert xml.findtext('.//{*}ExchangedDocument/{*}TypeCode') == type_code
    assert xml.findtext('.//{*}ExchangedDocument/{*}ID') == (
        document['number'])
    # Every font embedded as TrueType, in the PDF as in its rendering.
    assert set(fonts(data).values()) == {('/FontFile2',)}
    assert all('DejaVuSans' in name for name in fonts(data))


def test_rendered_pdf_embeds_every_font(db):
    document, _ = issued('domestic')
    data = render.render_invoice_pdf(document)
    assert b'/Helvetica' not in data
    assert sorted(name.split('+')[1] for name in fonts(data)) == [
        'DejaVuSans', 'DejaVuSans-Bold']
    assert set(fonts(data).values()) == {('/FontFile2',)}


def test_pdffonts_sees_only_embedded_dejavu(db, tmp_path):
    assert shutil.which('pdffonts'), (
        'pdffonts is needed: apt-get install poppler-utils '
        '(tools/ensure_browser.py does, in tox -e py3)')
    document, _ = issued('several-rates')
    path = tmp_path / 'invoice.pdf'
    path.write_bytes(make(document))
    out = subprocess.run(['pdffonts', str(path)], check=True,
                         capture_output=True, text=True).stdout
    rows = [line.split() for line in out.splitlines()[2:]]
    # name, type, encoding, emb, sub, uni, object id
    assert [(row[0].split('+')[1], row[3]) for row in rows] == [
        ('DejaVuSans', 'yes'), ('DejaVuSans-Bold', 'yes')]


def test_pdfa_3b_and_factur_x_metadata(db):
    document, _ = issued('domestic')
    data = make(document)
    pdf = reader(data)
    root = pdf.trailer['/Root']

    assert data.startswith(b'%PDF-1.7\n%\xe2\xe3\xcf\xd3')
    xmp = xmp_of(data)
    assert (xmp_text(xmp, 'pdfaid:part'),
            xmp_text(xmp, 'pdfaid:conformance')) == ('3', 'B')
    assert [xmp_text(xmp, 'fx:' + name) for name in (
        'DocumentType', 'DocumentFileName', 'Version',
        'ConformanceLevel')] == [
        'INVOICE', 'factur-x.xml', '1.0', 'EN 16931']
    # The fx: schema is declared as a PDF/A extension schema.
    assert xmp_text(xmp, 'pdfaSchema:namespaceURI') == facturx.FX_NAMESPACE
    assert xmp_text(xmp, 'pdfaSchema:prefix') == 'fx'
    descriptions = list(xmp.iter('{%s}Description' % XMP_NS['rdf']))
    assert [node.get('{%s}about' % XMP_NS['rdf']) for node in
            descriptions] == [''] * len(descriptions) != []
    # Document information and XMP agree, dated the issue date.
    info = pdf.metadata
    assert info['/CreationDate'] == info['/ModDate'] == (
        "D:20261103000000+00'00'")
    assert xmp_text(xmp, 'xmp:CreateDate') == xmp_text(
        xmp, 'xmp:ModifyDate') == '2026-11-03T00:00:00+00:00'
    assert info['/Title'] == xmp_text(xmp, 'dc:title/rdf:Alt/rdf:li') == (
        'Invoice %s' % document['number'])
    assert info['/Author'] == xmp_text(xmp, 'dc:creator/rdf:Seq/rdf:li') == (
        'Test Cloud AB')
    assert info['/Producer'] == xmp_text(xmp, 'pdf:Producer')
    assert info['/Creator'] == xmp_text(xmp, 'xmp:CreatorTool')
    assert '/Keywords' not in info and '/Trapped' not in info
    # An sRGB output intent with its ICC profile.
    intent, = [item.get_object() for item in root['/OutputIntents']]
    assert intent['/S'] == '/GTS_PDFA1'
    assert intent['/OutputConditionIdentifier'] == 'sRGB IEC61966-2.1'
    profile = intent['/DestOutputProfile'].get_object()
    assert profile['/N'] == 3
    icc = profile.get_data()
    assert (icc[12:20], icc[36:40]) == (b'mntrRGB ', b'acsp')
    assert int.from_bytes(icc[:4], 'big') == len(icc)
    # factur-x.xml, the invoice the PDF shows, linked from /AF.
    spec, = [item.get_object() for item in root['/AF']]
    assert (spec['/F'], spec['/UF'], spec['/AFRelationship']) == (
        'factur-x.xml', 'factur-x.xml', '/Alternative')
    assert root['/Names']['/EmbeddedFiles']['/Names'][0] == 'factur-x.xml'
    embedded = spec['/EF']['/F'].get_object()
    assert embedded['/Subtype'] == '/text/xml'
    assert embedded['/Params']['/ModDate'] == "D:20261103000000+00'00'"
    assert embedded.get_data() == pdf.attachments['factur-x.xml'][0]
    # A file identifier of two equal 16-byte strings.
    first, second = pdf.trailer['/ID']
    assert first == second and len(first) == 16
    # The visible PDF is unchanged: the same pages and text.
    plain = reader(render.render_invoice_pdf(document))
    assert [page.extract_text() for page in pdf.pages] == [
        page.extract_text() for page in plain.pages]


class _LaterClock(datetime.datetime):
    """factur-x's clock, ten years on."""

    @classmethod
    def now(cls, tz=None):
        return datetime.datetime(2036, 5, 17, 13, 37, 1, tzinfo=tz)


def test_same_invoice_same_bytes_on_any_day(db, monkeypatch):
    document, _ = issued('reverse-charge')
    pdf = render.render_invoice_pdf(document)
    first = facturx.make_facturx(pdf, document)

    assert facturx.make_facturx(pdf, document) == first
    monkeypatch.setattr(facturx.facturx.facturx, 'datetime', _LaterClock)
    assert facturx.make_facturx(pdf, document) == first
    assert b'2036' not in first and b'20360517' not in first
    # Another invoice, another file identifier.
    other, _ = issued('domestic', 'proj-b')
    assert reader(make(other)).trailer['/ID'][0] != (
        reader(first).trailer['/ID'][0])


def test_factur_x_schematron_never_runs(db, monkeypatch):
    def schematron(*args, **kwargs):
        raise AssertionError('would post the XML to localhost:5000')

    monkeypatch.setattr(facturx.facturx.facturx, 'xml_check_schematron',
                        schematron)
    document, _ = issued('domestic')
    assert reader(make(document)).attachments['factur-x.xml']


def test_an_xml_failing_factur_x_xsd_makes_no_pdf(db, monkeypatch):
    document, _ = issued('domestic')
    pdf = render.render_invoice_pdf(document)
    monkeypatch.setattr(facturx.cii, 'invoice_cii', lambda doc: (
        b'<?xml version="1.0"?><rsm:CrossIndustryInvoice xmlns:rsm="'
        b'urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100">'
        b'<rsm:Nonsense/></rsm:CrossIndustryInvoice>'))
    with pytest.raises(Exception, match='XML Schema'):
        facturx.make_facturx(pdf, document)


def test_threads_wrapping_at_once_get_the_bytes_of_one_at_a_time(db):
    """Each thread checks the XML with a schema of its own."""
    documents = [issued(kind, project_id=kind)[0]
                 for kind in ('domestic', 'reverse-charge', 'credit-note')]
    pdfs = [render.render_invoice_pdf(document) for document in documents]
    expected = [facturx.make_facturx(pdf, document)
                for pdf, document in zip(pdfs, documents)]
    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        got = list(pool.map(facturx.make_facturx, pdfs * 4, documents * 4))
    assert got == expected * 4


def test_issuing_stores_the_factur_x_pdf_with_the_ubl(db, validator,
                                                      tmp_path):
    """What billing_issue stores: a valid Factur-X PDF, as the UBL says.

    Number, total and the buyer's VAT number agree with the stored UBL.
    """
    invoice = cases.issue_for(cases.DE_BUSINESS,
                              factories.instance_and_volume())
    stored = bytes(invoice.pdf)
    path = tmp_path / ('%s.pdf' % invoice.number)
    path.write_bytes(stored)
    res = validator.validate(str(path))
    assert res['pdf_attachment'] == 'factur-x.xml'
    assert res['xsd_errors'] == []
    assert [item for rule in res['rules'] for item in rule['fatal']] == []
    assert res['valid']

    cii = etree.fromstring(reader(stored).attachments['factur-x.xml'][0])
    ubl_root = etree.fromstring(bytes(
        invoice.einvoices.get().content))
    ram = ('urn:un:unece:uncefact:data:standard:'
           'ReusableAggregateBusinessInformationEntity:100')
    cbc = 'urn:oasis:names:specification:ubl:schema:xsd:' \
        'CommonBasicComponents-2'
    assert cii.findtext('.//{%s}GrandTotalAmount' % ram) == \
        ubl_root.findtext('.//{%s}TaxInclusiveAmount' % cbc) == \
        '%s' % invoice.total.quantize(invoice.total.__class__('0.01'))
    assert cii.findtext(
        './/{urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100}'
        'ExchangedDocument/{%s}ID' % ram) == invoice.number
    assert cii.findtext('.//{%s}BuyerTradeParty/{%s}SpecifiedTaxRegistration'
                        '/{%s}ID' % (ram, ram, ram)) == 'DE136695976'
