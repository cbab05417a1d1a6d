"""E-invoices of issued invoices: Peppol BIS Billing 3.0 UBL, stored once.

What callers may rely on:

* Issuing makes the UBL of each invoice and credit note with
  ``make_ubl`` and stores it with ``store_ubl`` in the transaction that
  stores the invoice's PDF (``billing.issue``): an invoice shown to its
  project has its e-invoice.
  Its PDF is Factur-X (``make_facturx``): the same invoice as CII inside.
* ``ubl_for(invoice)`` returns the stored ``EInvoice``. An invoice issued
  before e-invoices were stored gets one made from its stored data on
  first use, stored once: of two concurrent first calls one stores it and
  the other returns that row. Call it outside a transaction.
* Once stored an e-invoice never changes (``models.EInvoice``); what a
  download or an export hands out is what was stored.
* The seller's Peppol id is the seller snapshot's; an invoice issued
  before the snapshot kept it takes ``[seller] peppol_id`` of the
  configuration at the time its e-invoice is made.
"""

import errno
import hashlib
import os
import tempfile

from django.db import IntegrityError
from django.db import transaction

from cleura_billing_dashboard.billing.models import EInvoice
from cleura_billing_dashboard.billing.models import Invoice
from cleura_billing_dashboard import conf
from cleura_billing_dashboard.einvoice import facturx
from cleura_billing_dashboard.einvoice import ubl


class EInvoiceError(ValueError):
    """The e-invoice cannot be made (the message says why)."""


def filename(number):
    """The name an invoice's UBL is downloaded and exported as."""
    return '%s.xml' % number


def ubl_document(invoice, document=None):
    """``invoice`` as the dict ``einvoice.ubl.invoice_ubl`` takes.

    ``document`` is ``invoice.as_document(...)`` when the caller has it
    (the issuer, with the unsaved lines); else the stored one is read.
    """
    document = dict(document or invoice.as_document())
    document['project_id'] = invoice.project_id
    if invoice.credits_id:
        document['credits_issue_date'] = invoice.credits.issue_date
    seller = dict(document['seller'])
    if 'peppol_id' not in seller:
        # Issued before the seller snapshot kept it.
        seller['peppol_id'] = conf.get_conf().seller.peppol_id or ''
    document['seller'] = seller
    return document


def make_ubl(invoice, document=None):
    """The UBL 2.1 bytes of ``invoice``; ``EInvoiceError`` if it cannot be.

    Makes, never stores: see ``store_ubl`` and ``ubl_for``.
    """
    try:
        return ubl.invoice_ubl(ubl_document(invoice, document))
    except ValueError as e:
        raise EInvoiceError('no e-invoice can be made: %s' % e)


def make_facturx(invoice, pdf, document=None):
    """``pdf`` (the rendered invoice) as Factur-X EN 16931, PDF/A-3b.

    The CII inside is made from the same document as the UBL. Raises
    ``EInvoiceError`` if it cannot be made.
    """
    try:
        return facturx.make_facturx(pdf, ubl_document(invoice, document),
                                    invoice.language)
    except Exception as e:
        # factur-x raises a bare Exception for an XML failing its XSD.
        raise EInvoiceError('no Factur-X PDF can be made: %s' % e)


def store_ubl(invoice, content):
    """Insert ``content`` as the stored UBL of the stored ``invoice``."""
    stored = EInvoice(invoice=invoice, syntax=EInvoice.UBL, content=content,
                      sha256=hashlib.sha256(content).hexdigest())
    stored.save()
    return stored


def ubl_for(invoice):
    """The stored ``EInvoice`` (UBL) of ``invoice``, made once if missing.

    Raises ``EInvoiceError`` when an invoice without one cannot have one
    made (then nothing is stored).
    """
    try:
        return _stored_ubl(invoice)
    except EInvoice.DoesNotExist:
        pass
    # Issued before e-invoices were stored: made outside the transaction
    # so that a concurrent maker waits only for the insert.
    try:
        content = make_ubl(invoice)
    except EInvoiceError as e:
        raise EInvoiceError('%s: %s' % (invoice.number, e))
    try:
        with transaction.atomic():
            return store_ubl(invoice, content)
    except IntegrityError:
        # Stored by a concurrent first download or export: theirs stands.
        return _stored_ubl(invoice)


def _stored_ubl(invoice):
    return EInvoice.objects.only('content', 'sha256').get(
        invoice=invoice, syntax=EInvoice.UBL)


def project_ubl(project_id, number):
    """``(filename, bytes, sha256)`` of the UBL of the project's invoice.

    One indexed read when it is stored. Another project's invoice, or an
    unknown number, raises ``Invoice.DoesNotExist``.
    """
    invoices = Invoice.objects.for_project(project_id).filter(number=number)
    try:
        stored = EInvoice.objects.only('content', 'sha256').get(
            invoice__in=invoices, syntax=EInvoice.UBL)
    except EInvoice.DoesNotExist:
        stored = ubl_for(invoices.defer('pdf').get())
    return filename(number), bytes(stored.content), stored.sha256


# What ``export_period_ubl`` did with each invoice.
WRITTEN = 'written'
ALREADY_EXPORTED = 'already exported'
DIFFERENT_FILE = 'different file'


def export_period_ubl(period_start, directory):
    """Write the UBL of every invoice and credit note of a period.

    ``period_start`` is the first day of the period; ``directory`` is
    created if missing. Each document is written as ``<number>.xml``,
    in number order, and never over an existing file: one with the same
    bytes is reported ``ALREADY_EXPORTED``, one with other bytes
    ``DIFFERENT_FILE`` and left as it is. Returns ``[(number, path,
    outcome)]``. Raises ``EInvoiceError`` (an invoice whose UBL cannot be
    made; what was written before stays) and ``OSError``.
    """
    os.makedirs(directory, exist_ok=True)
    # Invoices still being issued are exported by a later run.
    invoices = (Invoice.objects.ready().filter(period_start=period_start)
                .select_related('credits').defer('pdf', 'credits__pdf')
                .order_by('number'))
    stored = {row.invoice_id: row for row in EInvoice.objects.filter(
        invoice__period_start=period_start, syntax=EInvoice.UBL).only(
            'invoice_id', 'content')}
    done = []
    for invoice in invoices:
        row = stored.get(invoice.pk) or ubl_for(invoice)
        path = os.path.join(directory, filename(invoice.number))
        done.append((invoice.number, path,
                     _write_once(path, bytes(row.content))))
    return done


def _write_once(path, content):
    """Write ``content`` to ``path`` unless a file is there; the outcome.

    Written to a hidden temporary file first and linked into place, so
    the file appears whole or not at all, and never replaces another.
    """
    directory, name = os.path.split(path)
    fd, temporary = tempfile.mkstemp(prefix='.%s.' % name, suffix='.part',
                                     dir=directory)
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(content)
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(temporary, path)
        except OSError as e:
            if e.errno != errno.EEXIST:
                raise
            with open(path, 'rb') as f:
                existing = f.read()
            return ALREADY_EXPORTED if existing == content else DIFFERENT_FILE
    finally:
        os.unlink(temporary)
    return WRITTEN
