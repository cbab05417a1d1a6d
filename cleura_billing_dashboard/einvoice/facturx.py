"""Factur-X: the invoice PDF with its EN 16931 CII inside, as PDF/A-3b.

``make_facturx(pdf_bytes, document)`` takes the PDF ``pdf.render_invoice_pdf``
made from ``document`` (every font embedded) and returns it as a Factur-X
1.0 PDF of profile EN 16931: ``cii.invoice_cii(document)`` attached as
``factur-x.xml``, the PDF/A-3b and Factur-X XMP metadata, an sRGB output
intent. Not yet wired into issuing.

The ``factur-x`` library does the attachment (the file specification with
``/AFRelationship /Alternative`` -- the XML is the invoice the PDF shows,
as Factur-X asks of EN 16931 -- the catalogue's ``/AF`` and ``/Names``)
and its EN 16931 XSD, which the XML is checked against first (``_check_xsd``:
as the library's check, with the schema read once). Its schematron check
is never run: it posts the XML to a server on localhost:5000, which is the
demo's Keystone. What it leaves, done here with pypdf on the same writer
(factur-x's ``generate_from_binary`` would write the PDF out, to be parsed
again for these: its steps are called instead, the XSD check and the
attachment, pinned by ``factur-x>=7.8``):

* It stamps the clock into the document information, the XMP dates and
  the attachment's ``/ModDate``; the stored PDF's SHA-256 is a record, so
  all three are the issue date (midnight UTC), as ``pdf.render`` does.
* It writes no output intent, which PDF/A requires for colour: an sRGB
  one, with the profile in ``sRGB.icc`` (``tools/srgb_icc.py``).
* Its XMP names "pypdf" as producer and has no keywords, while the
  document information keeps ReportLab's producer and gets keywords (and
  has ReportLab's ``/Trapped``); PDF/A wants the two to agree: the XMP is
  written again with the producer, and keywords and ``/Trapped`` are
  dropped. The XMP is left uncompressed, as PDF/A validators read it.
* The header is ReportLab's ``%PDF-1.3``; PDF/A-3 is PDF 1.7. The XMP
  descriptions get the ``rdf:about=""`` XMP requires.
* The file identifier (``/ID``) is ReportLab's invariant one; it is set
  from the digests of the PDF and the XML, so it differs per invoice and
  is the same on every call.

Same input, same bytes, on every call and every day.
"""

import datetime
import hashlib
import importlib.resources
import io
import os
import threading

import facturx
from lxml import etree
import pypdf
from pypdf import generic

from cleura_billing_dashboard.einvoice import cii

HERE = os.path.dirname(os.path.abspath(__file__))
ICC_PROFILE = os.path.join(HERE, 'sRGB.icc')
FILENAME = facturx.facturx.FACTURX_FILENAME   # factur-x.xml
LEVEL = 'en16931'
AFRELATIONSHIP = 'alternative'
#: The Factur-X XMP extension schema's namespace (fx:).
FX_NAMESPACE = 'urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#'
OUTPUT_CONDITION = 'sRGB IEC61966-2.1'
PDF_HEADER = '%PDF-1.7'
RDF_ABOUT = '{http://www.w3.org/1999/02/22-rdf-syntax-ns#}about'

_ICC = []
_SCHEMA = threading.local()


def make_facturx(pdf_bytes, document, language=None):
    """``pdf_bytes`` with ``document``'s CII: a Factur-X PDF/A-3b, as bytes.

    ``language`` (``sv``, ``en``...) is the PDF's ``/Lang`` when given.
    Raises factur-x's ``Exception`` if the XML fails Factur-X's XSD (a bug
    here, not in the invoice: ``tests/unit/test_einvoice_cii.py`` validates
    every kind of invoice we issue), and ``ValueError`` for a seller
    without an electronic address (``cii``).
    """
    xml = cii.invoice_cii(document)
    _check_xsd(xml)
    writer = pypdf.PdfWriter(clone_from=io.BytesIO(pdf_bytes))
    info = writer.metadata or {}
    metadata = {
        'title': str(info.get('/Title') or document['number']),
        'author': str(info.get('/Author') or ''),
        'subject': 'Factur-X %s %s' % (
            'credit note' if document.get('type') == 'credit_note'
            else 'invoice', document['number']),
        'keywords': '',
    }
    # What facturx.generate_from_binary does, on our own writer, so that
    # the PDF/A fixes below are made in the same pass (one parse and one
    # write of the PDF instead of two: most of the wrap's cost).
    facturx.facturx._facturx_update_metadata_add_attachment(
        writer, xml, dict(metadata), 'factur-x', LEVEL, lang=language,
        afrelationship=AFRELATIONSHIP, xmp_compression=False)
    identifier = hashlib.md5(hashlib.sha256(pdf_bytes).digest() +
                             hashlib.sha256(xml).digest()).digest()
    return _pdfa(writer, document['issue_date'], metadata, identifier)


def _check_xsd(xml):
    """Check ``xml`` against Factur-X's EN 16931 XSD, as factur-x does.

    ``facturx.xml_check_xsd`` with the schema factur-x ships, read once
    per thread (the library reads it on every call: a tenth of the wrap;
    a validator keeps its last errors, so threads do not share one).
    Raises factur-x's kind of ``Exception``.
    """
    schema = getattr(_SCHEMA, 'schema', None)
    if schema is None:
        path = importlib.resources.files(facturx.facturx.__package__).joinpath(
            'xsd_and_schematron', facturx.facturx.FACTURX_LEVEL2xsd[LEVEL])
        schema = _SCHEMA.schema = etree.XMLSchema(file=str(path))
    try:
        schema.assertValid(etree.fromstring(xml))
    except etree.DocumentInvalid as e:
        raise Exception('The Factur-x XML file is not valid against the '
                        'official XML Schema Definition: %s' % e) from e


def _icc_profile():
    if not _ICC:
        with open(ICC_PROFILE, 'rb') as f:
            _ICC.append(f.read())
    return _ICC[0]


def _pdfa(writer, issued, metadata, identifier):
    """The Factur-X ``writer``'s PDF, PDF/A gaps filled (module doc)."""
    # PDF/A-3 is ISO 32000-1, PDF 1.7 (the clone keeps ReportLab's 1.3).
    writer.pdf_header = PDF_HEADER
    moment = datetime.datetime.combine(issued, datetime.time(),
                                       datetime.timezone.utc)
    pdf_date = moment.strftime("D:%Y%m%d%H%M%S+00'00'")
    info = writer._info.get_object()
    # Entries the XMP does not carry, which PDF/A wants equal in both.
    for key in ('/Keywords', '/Trapped'):
        info.pop(key, None)
    info[generic.NameObject('/CreationDate')] = generic.TextStringObject(
        pdf_date)
    info[generic.NameObject('/ModDate')] = generic.TextStringObject(pdf_date)
    producer = str(info.get('/Producer') or 'pypdf')
    creator = str(info.get('/Creator') or facturx.facturx.CREATOR)
    info[generic.NameObject('/Producer')] = generic.TextStringObject(producer)
    info[generic.NameObject('/Creator')] = generic.TextStringObject(creator)

    root = writer._root_object
    for spec in root['/AF']:
        params = spec.get_object()['/EF']['/F'].get_object()['/Params']
        params[generic.NameObject('/ModDate')] = generic.TextStringObject(
            pdf_date)

    xmp = _xmp(metadata, producer, creator,
               moment.strftime('%Y-%m-%dT%H:%M:%S+00:00'))
    root['/Metadata'].get_object().set_data(xmp)

    icc = generic.StreamObject()
    icc.set_data(_icc_profile())
    icc = icc.flate_encode()
    icc[generic.NameObject('/N')] = generic.NumberObject(3)
    intent = generic.DictionaryObject({
        generic.NameObject('/Type'): generic.NameObject('/OutputIntent'),
        generic.NameObject('/S'): generic.NameObject('/GTS_PDFA1'),
        generic.NameObject('/OutputConditionIdentifier'):
            generic.TextStringObject(OUTPUT_CONDITION),
        generic.NameObject('/Info'):
            generic.TextStringObject(OUTPUT_CONDITION),
        generic.NameObject('/DestOutputProfile'): writer._add_object(icc),
    })
    root[generic.NameObject('/OutputIntents')] = generic.ArrayObject(
        [writer._add_object(intent)])

    writer._ID = generic.ArrayObject([generic.ByteStringObject(identifier),
                                      generic.ByteStringObject(identifier)])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _xmp(metadata, producer, creator, timestamp):
    """The XMP packet: PDF/A-3B identification and the Factur-X schema."""
    root = facturx.facturx.generate_xmp_object({
        'pdfa3_flavor': 'B',
        'title': metadata['title'],
        'author': metadata['author'],
        'subject': metadata['subject'],
        'producer': producer,
        'creator_tool': creator,
        'timestamp': timestamp,
        'version': '1.0',
        'documenttype': 'INVOICE',
        'xml_filename': FILENAME,
        'xmp_level': facturx.facturx.FACTURX_LEVEL2xmp[LEVEL],
        'urn': FX_NAMESPACE,
    })
    # XMP wants rdf:about on each description (empty: this document).
    for description in root.iter(
            '{http://www.w3.org/1999/02/22-rdf-syntax-ns#}Description'):
        description.set(RDF_ABOUT, '')
    body = etree.tostring(root, encoding='unicode', pretty_print=True)
    return ('<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n%s\n'
            '<?xpacket end="w"?>' % body.strip()).encode('utf-8')
