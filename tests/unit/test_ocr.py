"""Swedish OCR references: length digit and Luhn check digit.

Every expected reference below is worked out by hand from the definition:
body = base + (total length % 10); from the right of the body, digits are
weighted 2, 1, 2, 1, ...; two-digit products add their digits; the check
digit brings the sum up to a multiple of 10.
"""

import pytest

from cleura_billing_dashboard.billing import ocr


@pytest.mark.parametrize('base, expected', [
    # 7 digits in all -> body 123457; 7*2=14->5, 5, 4*2=8, 3, 2*2=4, 1:
    # sum 26 -> check 4.
    ('12345', '1234574'),
    # 12 digits -> body 20260000012; 2*2=4, 1, 0, 0, 0, 0, 0, 6, 2*2=4, 0,
    # 2*2=4: sum 19 -> check 1.
    ('2026000001', '202600000121'),
    # 3 digits -> body 93; 3*2=6, 9: sum 15 -> check 5.
    ('9', '935'),
    # 10 digits (length digit 0) -> body 555555550; 0, 5, 5*2=10->1, 5, 1,
    # 5, 1, 5, 1: sum 24 -> check 6.
    ('55555555', '5555555506'),
])
def test_reference_has_length_and_check_digit(base, expected):
    assert ocr.ocr_for(base) == expected
    assert ocr.is_valid_ocr(expected)


@pytest.mark.parametrize('reference', [
    '1234575',       # check digit off by one
    '1234582',       # Luhn-valid (7*... sum 28 -> 2) but length digit 8 != 7
    '2026000001210',  # a digit appended
    '12-34574',      # not digits only
    '74',            # too short for two control digits
    '',
    '1' * 26,        # longer than Bankgirot's 25 digits
    1234574,         # not a string
    None,
])
def test_invalid_references_are_refused(reference):
    assert not ocr.is_valid_ocr(reference)


def test_every_single_digit_error_is_caught():
    reference = ocr.ocr_for('2026000123')
    for i, digit in enumerate(reference):
        for other in '0123456789':
            if other != digit:
                changed = reference[:i] + other + reference[i + 1:]
                assert not ocr.is_valid_ocr(changed), changed


@pytest.mark.parametrize('base', ['', '12a4', '１２３', '1' * 24])
def test_unusable_base_is_refused(base):
    with pytest.raises(ValueError):
        ocr.ocr_for(base)


def test_longest_base_makes_25_digits():
    assert len(ocr.ocr_for('1' * 23)) == 25
