"""The doctor marketplace (issue 11): search the directory, open care requests, match and notify doctors, take
bids, book one with compare-and-swap, and later transitions. The rules that must hold whatever the path (REST,
WebSocket or sync) live in SQL (migrations 0080-0083); these modules are the REST side's thin layer over them.

search.py (doctor search + Redis cache) · matching.py (specialty and urgency: triage, then Groq when allowed) ·
requests.py (open a request) · bids.py (place a bid) · booking.py (accept a bid, later transitions, expiry) ·
idempotency.py (Idempotency-Key) · performance.py (the doctor_performance view).
"""
