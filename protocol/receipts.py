"""Receipts: the server's verdict on each pushed change, as both sides read and write it."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Receipt:
    """The server's verdict on one change: accepted, duplicate (this change id was applied before), superseded
    (it lost the merge to a later write; `row` is the winner) or rejected (with a stable code and a reason)."""

    change_id: str
    status: str
    code: str | None = None
    reason: str | None = None
    row: dict[str, Any] | None = None  # the server's row, when the device's copy must be repaired

    @classmethod
    def from_wire(cls, d: dict[str, Any]) -> Receipt:
        return cls(str(d["change_id"]), d["status"], d.get("code"), d.get("reason"), d.get("row"))

    def to_wire(self) -> dict[str, Any]:
        out = {"change_id": self.change_id, "status": self.status, "code": self.code, "reason": self.reason}
        if self.row is not None:
            out["row"] = self.row
        return out
