"""The invoice PDF: an invoice or credit note as plain data in, PDF bytes out.

What callers can rely on:

* ``render_invoice_pdf(invoice, language='en') -> bytes`` renders.
  ``invoice`` is a dict of plain values (Decimal amounts, ``date`` dates; the
  keys are listed in :mod:`cleura_billing_dashboard.pdf.render`). A missing
  key raises ``KeyError``; an empty string is left out of the document.
* The same invoice and language give the same text, fonts and metadata on
  every call, on any day: render once at issue and store the bytes.
* Everything from the invoice is escaped; none of it is read as markup.
* Text is set in the embedded DejaVu Sans, so any Latin, Greek or Cyrillic
  name and the euro sign print as written.
* Nothing is fetched: the only files read are the two font files,
  ``DejaVuSans.ttf`` and ``DejaVuSans-Bold.ttf``, from the directory
  ``[pdf] fonts_dir`` names or else the copies inside this package. If
  either is missing there, ``FontsMissing`` is raised (and logged) before
  anything is rendered. No Django app or database is needed, only
  configured Django settings for translation.
* The fonts are parsed once per process and fonts directory, on the first
  rendering or ahead of it with ``load_fonts()`` (raising ``FontsMissing``
  the same way): call it before forking workers and they inherit them.
"""

from cleura_billing_dashboard.pdf.render import FontsMissing
from cleura_billing_dashboard.pdf.render import load_fonts
from cleura_billing_dashboard.pdf.render import render_invoice_pdf

__all__ = ['FontsMissing', 'load_fonts', 'render_invoice_pdf']
