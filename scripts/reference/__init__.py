"""Independent NumPy reference implementations used to generate rooflm test fixtures.

Nothing in here shares code with the C++ engine. See tests/fixtures/README.md and
scripts/make_reference_fixtures.py.
"""
