"""Who may move an appointment from one status to another: the one rule sync, REST and WebSocket all enforce.

The server enforces it in SQL (a trigger reads the acting role from the JWT claims; the migration runner copies
this table into `app.appointment_transitions` on every run), so no route can bypass it. Row-level security still
decides *which* appointments a caller may touch (a patient their own, a doctor those booked with them).
"""
from __future__ import annotations

ROLES = ("patient", "nurse", "doctor", "staff", "admin")
CARE = frozenset({"nurse", "doctor", "staff", "admin"})  # the practice's side (a clinic's nurses book visits too)
ANYONE = frozenset(ROLES)

# (status before, or None for a new appointment; status after) -> the roles that may make that move.
TRANSITIONS: dict[tuple[str | None, str], frozenset[str]] = {
    (None, "requested"): ANYONE,            # a patient asks for a visit
    (None, "confirmed"): CARE,              # the practice books one directly
    ("requested", "confirmed"): CARE,       # only the practice confirms a request
    ("requested", "cancelled"): ANYONE,     # a patient may withdraw their request
    ("confirmed", "cancelled"): ANYONE,     # ... or cancel a booked visit
    ("confirmed", "completed"): CARE,
    ("confirmed", "no_show"): CARE,
    ("confirmed", "checked_in"): CARE,
    # The marketplace (issue 11): a request is booked by accepting a doctor's bid (the patient, or the practice for
    # them); a booked visit is checked in, completed, missed or cancelled; a request nobody took expires (the
    # server's job does it as itself; the practice may close one by hand).
    ("requested", "booked"): ANYONE,
    ("requested", "expired"): CARE,
    ("booked", "checked_in"): CARE,
    ("booked", "completed"): CARE,
    ("booked", "no_show"): CARE,
    ("booked", "cancelled"): ANYONE,
    ("checked_in", "completed"): CARE,
}


def who_may(old: str | None, new: str) -> frozenset[str]:
    """The roles allowed to move an appointment from `old` (None: create) to `new` (empty: nobody)."""
    return TRANSITIONS.get((old, new), frozenset())


def may(role: str, old: str | None, new: str) -> bool:
    """Whether `role` may make this move; keeping the status is never a transition."""
    return old == new or role in who_may(old, new)


def explain(role: str, old: str | None, new: str) -> str:
    """Why a move is refused, naming who may make it (the SQL trigger raises this very text)."""
    action = f"create an appointment as {new}" if old is None else f"move an appointment from {old} to {new}"
    allowed = ", ".join(sorted(who_may(old, new))) or "no one"
    return f"a {role} may not {action}; allowed for: {allowed}"


def by_status() -> dict[str, set[str]]:
    """The role-free graph (status -> statuses reachable by someone), as the shared merge policy checks it."""
    graph: dict[str, set[str]] = {}
    for old, new in TRANSITIONS:
        if old is not None:
            graph.setdefault(old, set()).add(new)
        graph.setdefault(new, set())
    return graph


def sql_rows() -> list[tuple[str | None, str, str]]:
    """The table as (from_status, to_status, role) rows, the form `app.appointment_transitions` stores."""
    return sorted(((old, new, role) for (old, new), roles in TRANSITIONS.items() for role in roles),
                  key=lambda r: (r[0] or "", r[1], r[2]))
