#!/usr/bin/env python3
# flake8: noqa -- the shared validator, unchanged but for this line
"""Validate EN 16931 e-invoices offline: CII (Factur-X / ZUGFeRD XML) and UBL 2.1 (Peppol BIS 3.0).

Usage: validate.py [options] FILE [FILE ...]

For each file: detect the syntax by the root element, validate against the XML Schema
(CII D16B uncoupled / UBL 2.1), then against the CEN EN 16931 schematron (1.3.16) and, for a
Peppol UBL invoice, the Peppol BIS Billing 3.0 rules (3.0.21). Every fatal assert is printed
(rule id, location, text); warnings are counted (printed with -w).

Exit status: 0 every file valid (warnings allowed); 1 some file has an XSD error, a fatal assert
or is not well-formed XML; 2 a usage error, an unsupported document, a missing dependency or
artefact (2 wins over 1 when both happen).

Needs: pip install saxonche lxml   (pypdf too, only to read the XML out of a Factur-X PDF).
"""
import argparse
import json
import os
import re
import sys

from lxml import etree

HERE = os.path.dirname(os.path.abspath(__file__))
ART = os.path.join(HERE, "artefacts")

NS_CII = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
NS_UBL_INV = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
NS_UBL_CN = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
NS_CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
NS_SVRL = "http://purl.oclc.org/dsdl/svrl"

XSD = {
    "CII": ("CII D16B uncoupled (CEN)", "cii-d16b-xsd/CrossIndustryInvoice_100pD16B.xsd"),
    "UBL-Invoice": ("UBL 2.1 Invoice", "ubl-2.1-xsd/maindoc/UBL-Invoice-2.1.xsd"),
    "UBL-CreditNote": ("UBL 2.1 CreditNote", "ubl-2.1-xsd/maindoc/UBL-CreditNote-2.1.xsd"),
}
SCH = {
    "EN16931-CII": ("EN16931 CII 1.3.16", "en16931/EN16931-CII-validation.xslt"),
    "EN16931-UBL": ("EN16931 UBL 1.3.16", "en16931/EN16931-UBL-validation.xslt"),
    "PEPPOL-UBL": ("Peppol BIS 3.0.21", "peppol/PEPPOL-EN16931-UBL.xslt"),
}
# Prefixes used only to shorten SVRL locations for people.
PREFIX = {
    NS_CII: "rsm",
    "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100": "ram",
    "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100": "udt",
    "urn:un:unece:uncefact:data:standard:QualifiedDataType:100": "qdt",
    NS_UBL_INV: "ubl",
    NS_UBL_CN: "cn",
    "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2": "cac",
    NS_CBC: "cbc",
    "urn:oasis:names:specification:ubl:schema:xsd:CommonExtensionComponents-2": "ext",
}
LOC_STEP = re.compile(r"\*:([\w.-]+)\[namespace-uri\(\)='([^']*)'\]")
PDF_XML_NAMES = ("factur-x.xml", "zugferd-invoice.xml", "xrechnung.xml", "order-x.xml")


class Usage(Exception):
    """A problem with the call or the setup (exit 2), not with the invoice."""


def short_location(loc):
    def step(m):
        prefix = PREFIX.get(m.group(2))
        return f"{prefix}:{m.group(1)}" if prefix else m.group(1)
    return LOC_STEP.sub(step, loc or "")


def read_xml_bytes(path):
    with open(path, "rb") as fh:
        data = fh.read()
    if data.lstrip()[:5] != b"%PDF-":
        return data, None
    try:
        from pypdf import PdfReader
    except ImportError:
        raise Usage(f"{path}: is a PDF; pip install pypdf to read its embedded XML")
    attachments = PdfReader(path).attachments
    for name in attachments:
        if name.lower() in PDF_XML_NAMES:
            return attachments[name][0], name
    raise Usage(f"{path}: PDF without a factur-x.xml / zugferd-invoice.xml / xrechnung.xml attachment"
                f" (attachments: {sorted(attachments) or 'none'})")


def detect(root):
    """Return (syntax key, list of schematron keys) for the document root, or raise Usage."""
    qn = etree.QName(root)
    if qn.namespace == NS_CII and qn.localname == "CrossIndustryInvoice":
        return "CII", ["EN16931-CII"]
    if qn.namespace == NS_UBL_INV and qn.localname == "Invoice":
        return "UBL-Invoice", ["EN16931-UBL"]
    if qn.namespace == NS_UBL_CN and qn.localname == "CreditNote":
        return "UBL-CreditNote", ["EN16931-UBL"]
    raise Usage(f"unsupported root element {root.tag} (expected CII CrossIndustryInvoice, "
                "UBL Invoice or UBL CreditNote)")


def is_peppol(root):
    # The specification identifier (BT-24) says which CIUS applies; ProfileID alone does not.
    return "urn:fdc:peppol.eu:2017:poacc:billing:3.0" in (
        root.findtext(f"{{{NS_CBC}}}CustomizationID") or "")


def cii_guideline(root):
    el = root.find(".//{*}GuidelineSpecifiedDocumentContextParameter/{*}ID")
    return (el.text or "").strip() if el is not None else ""


class Validator:
    def __init__(self):
        try:
            from saxonche import PySaxonProcessor
        except ImportError:
            raise Usage("pip install saxonche (SaxonC-HE) to run the schematron rules")
        # One processor per process: SaxonC (GraalVM) must not be shared across forked workers.
        self.proc = PySaxonProcessor(license=False)
        self.xslt = self.proc.new_xslt30_processor()
        self._schemas, self._stylesheets = {}, {}

    def schema(self, key):
        if key not in self._schemas:
            path = os.path.join(ART, XSD[key][1])
            if not os.path.exists(path):
                raise Usage(f"missing artefact {path}")
            parser = etree.XMLParser(no_network=True)
            self._schemas[key] = etree.XMLSchema(etree.parse(path, parser))
        return self._schemas[key]

    def stylesheet(self, key):
        if key not in self._stylesheets:
            path = os.path.join(ART, SCH[key][1])
            if not os.path.exists(path):
                raise Usage(f"missing artefact {path}")
            # Compiled from text: SaxonC rejects some file paths (spaces, commas) as URIs.
            with open(path, encoding="utf-8") as fh:
                self._stylesheets[key] = self.xslt.compile_stylesheet(stylesheet_text=fh.read())
        return self._stylesheets[key]

    def run_schematron(self, key, xml_text):
        doc = self.proc.parse_xml(xml_text=xml_text)
        svrl = self.stylesheet(key).transform_to_string(xdm_node=doc)
        out = etree.fromstring(svrl.encode("utf-8"))
        fatal, warnings = [], []
        for el in out.iter(f"{{{NS_SVRL}}}failed-assert", f"{{{NS_SVRL}}}successful-report"):
            item = {
                "id": el.get("id") or "",
                "flag": el.get("flag") or "fatal",
                "location": short_location(el.get("location")),
                "text": " ".join((el.findtext(f"{{{NS_SVRL}}}text") or "").split()),
            }
            (warnings if item["flag"] in ("warning", "information", "info") else fatal).append(item)
        return fatal, warnings

    def validate(self, path, peppol="auto"):
        res = {"file": path, "syntax": None, "xsd_errors": [], "rules": [], "valid": False}
        data, attachment = read_xml_bytes(path)
        if attachment:
            res["pdf_attachment"] = attachment
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                                 huge_tree=True)
        try:
            tree = etree.fromstring(data, parser).getroottree()
        except etree.XMLSyntaxError as exc:
            res["xsd_errors"].append(f"not well-formed XML: {exc}")
            return res
        if tree.docinfo.doctype:
            res["xsd_errors"].append("DOCTYPE declarations are not allowed in an invoice")
            return res
        root = tree.getroot()
        syntax, rule_keys = detect(root)
        res["syntax"] = syntax
        if syntax == "CII":
            res["guideline"] = cii_guideline(root)
        elif peppol == "on" or (peppol == "auto" and is_peppol(root)):
            rule_keys.append("PEPPOL-UBL")

        schema = self.schema(syntax)
        res["xsd"] = XSD[syntax][0]
        if not schema.validate(tree):
            res["xsd_errors"] = [f"line {e.line}: {e.message}" for e in schema.error_log]

        # Saxon gets the root re-serialised as text: any declared encoding is handled by lxml.
        xml_text = etree.tostring(root, encoding="unicode")
        for key in rule_keys:
            fatal, warnings = self.run_schematron(key, xml_text)
            res["rules"].append({"name": SCH[key][0], "fatal": fatal, "warnings": warnings})
        res["valid"] = not res["xsd_errors"] and not any(r["fatal"] for r in res["rules"])
        return res


def print_report(res, show_warnings):
    print(f"== {res['file']}" + (f" (embedded {res['pdf_attachment']})" if res.get("pdf_attachment") else ""))
    if res["syntax"]:
        extra = f", guideline {res['guideline']}" if res.get("guideline") else ""
        print(f"syntax: {res['syntax']}{extra}")
        if re.search(r"minimum|basicwl", res.get("guideline", "")):
            print("note: Factur-X MINIMUM / BASIC WL are not EN 16931 invoices; the CEN rules will fail")
    if res.get("xsd"):
        print(f"XSD {res['xsd']}: " + ("OK" if not res["xsd_errors"] else f"{len(res['xsd_errors'])} error(s)"))
    for err in res["xsd_errors"]:
        print(f"  XSD-ERROR {err}")
    for rule in res["rules"]:
        print(f"{rule['name']}: {len(rule['fatal'])} fatal, {len(rule['warnings'])} warning(s)")
        for item in rule["fatal"]:
            print(f"  FATAL [{item['id']}] {item['location']}\n        {item['text']}")
        if show_warnings:
            for item in rule["warnings"]:
                print(f"  warning [{item['id']}] {item['location']}\n        {item['text']}")
    print("RESULT: " + ("VALID" if res["valid"] else "INVALID"))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("files", nargs="+", metavar="FILE", help="CII or UBL XML (or a Factur-X PDF)")
    group = ap.add_mutually_exclusive_group()
    group.add_argument("--peppol", dest="peppol", action="store_const", const="on",
                       help="apply the Peppol BIS 3.0 rules to every UBL file")
    group.add_argument("--no-peppol", dest="peppol", action="store_const", const="off",
                       help="never apply the Peppol rules")
    ap.set_defaults(peppol="auto")  # auto: UBL whose CustomizationID is Peppol BIS Billing 3.0
    ap.add_argument("-w", "--warnings", action="store_true", help="print warnings too")
    ap.add_argument("--json", action="store_true", help="print one JSON object per file")
    args = ap.parse_args(argv)
    try:
        validator = Validator()
    except Usage as exc:
        print(f"validate.py: {exc}", file=sys.stderr)
        return 2
    status = 0
    for path in args.files:
        try:
            res = validator.validate(path, args.peppol)
        except (Usage, OSError) as exc:
            print(f"validate.py: {exc}", file=sys.stderr)
            status = 2
            continue
        if args.json:
            print(json.dumps(res, ensure_ascii=False))
        else:
            print_report(res, args.warnings)
        if not res["valid"] and status == 0:
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
