"""Write pip constraints that pin every requirement to its minimum.

``tox -e min`` installs requirements.txt with these constraints, so each
minimum there is a version the unit tests ran with::

    python tools/min_constraints.py requirements.txt OUT

Every requirement must have a ``>=`` minimum.
"""

import re
import sys

REQUIREMENT = re.compile(r'^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(.*)$')


def minimums(lines):
    pins = []
    for number, line in enumerate(lines, 1):
        spec = line.split('#', 1)[0].strip()
        if not spec:
            continue
        match = REQUIREMENT.match(spec)
        found = [part.strip()[2:].strip()
                 for part in match.group(2).split(',')
                 if part.strip().startswith('>=')] if match else []
        if len(found) != 1:
            raise ValueError('line %d has no single >= minimum: %s'
                             % (number, spec))
        pins.append('%s==%s' % (match.group(1), found[0]))
    return pins


def main():
    if len(sys.argv) != 3:
        raise SystemExit('usage: %s REQUIREMENTS OUT' % sys.argv[0])
    with open(sys.argv[1]) as f:
        pins = minimums(f)
    with open(sys.argv[2], 'w') as f:
        f.write('# The minimums of %s, written by %s.\n'
                % (sys.argv[1], sys.argv[0]))
        f.write(''.join(pin + '\n' for pin in pins))


if __name__ == '__main__':
    main()
