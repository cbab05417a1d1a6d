"""Swedish OCR payment references (OCR-nummer) with length and check digit.

Bankgirot's "hard" OCR check, as used for invoices paid by bank transfer:
the reference is the base digits, then a length digit (the length of the
whole reference, both control digits included, modulo 10), then a Luhn
(modulo 10) check digit computed over everything before it. Bankgirot takes
at most 25 digits; with its two control digits a reference has at least 3.

Example: base ``12345`` -> ``123457`` (7 digits in all) -> check digit 4
-> ``1234574``.
"""

from stdnum import luhn

MIN_LENGTH = 3
MAX_LENGTH = 25


def ocr_for(base_digits):
    """The OCR reference for ``base_digits`` (1 to 23 digits, a str).

    Raises ``ValueError`` when ``base_digits`` is not digits only or would
    make a reference longer than 25 digits.
    """
    if not (base_digits.isascii() and base_digits.isdigit()):
        raise ValueError('OCR base must be digits: %r' % (base_digits,))
    length = len(base_digits) + 2
    if length > MAX_LENGTH:
        raise ValueError('OCR reference would have %d digits, at most %d '
                         'are allowed' % (length, MAX_LENGTH))
    body = base_digits + str(length % 10)
    return body + luhn.calc_check_digit(body)


def is_valid_ocr(reference):
    """Whether ``reference`` is digits with a right length and check digit."""
    if not isinstance(reference, str):
        return False
    if not (reference.isascii() and reference.isdigit()):
        return False
    if not MIN_LENGTH <= len(reference) <= MAX_LENGTH:
        return False
    if int(reference[-2]) != len(reference) % 10:
        return False
    return luhn.is_valid(reference)
