"""What the edge and the sync server both speak: schemas, changesets, clocks, merge policies, receipts, error codes.

Imports no web framework, database driver or sqlite3 (tests/test_boundaries.py).
"""
