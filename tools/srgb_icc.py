"""Write the sRGB ICC profile of the Factur-X PDF's output intent.

``python -m tools.srgb_icc`` rewrites
``cleura_billing_dashboard/einvoice/sRGB.icc``: Little CMS's built-in
sRGB profile ("sRGB built-in", "No copyright, use freely"), as Pillow's
ImageCms makes it, with the creation date Little CMS stamps from the clock
set to 2000-01-01 so the file, and every PDF carrying it, is the same on
every run. The profile ID stays zero ("not computed"), as Little CMS
writes it. Run only to change the profile: the PDFs' bytes change with it.
"""

import os
import struct
import sys

PATH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))), 'cleura_billing_dashboard', 'einvoice', 'sRGB.icc')
# ICC.1 header: dateTimeNumber at bytes 24-35 (year .. second).
FIXED_DATE = struct.pack('>6H', 2000, 1, 1, 0, 0, 0)


def srgb_profile():
    """The profile's bytes."""
    from PIL import ImageCms
    data = bytearray(ImageCms.ImageCmsProfile(
        ImageCms.createProfile('sRGB')).tobytes())
    if data[36:40] != b'acsp' or data[12:20] != b'mntrRGB ':
        raise SystemExit('not an RGB display profile')
    data[24:36] = FIXED_DATE
    return bytes(data)


def main():
    with open(PATH, 'wb') as f:
        f.write(srgb_profile())
    print('wrote %s' % PATH, file=sys.stderr)


if __name__ == '__main__':
    main()
