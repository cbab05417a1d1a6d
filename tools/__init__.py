"""Developer tools: the lab, the demo, the benchmarks.

Run as modules from the repository root (``python -m tools.demo``), as
tox does; the tests import the lab as ``from tools import lab``. Nothing
here imports the tests.
"""
