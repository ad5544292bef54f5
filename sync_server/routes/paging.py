"""The query parameters every clinician list endpoint shares: page, time window and whose records."""
from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from fastapi import Query

MAX_PAGE = 500


@dataclass
class Page:
    """limit/offset/since/until/user_id, validated by FastAPI (a plain class so it works as `Depends()`)."""

    limit: int = Query(50, ge=1, le=MAX_PAGE, description=f"Page size (at most {MAX_PAGE}).")
    offset: int = Query(0, ge=0, le=1_000_000)
    since: dt.datetime | None = Query(None, description="Only records at or after this time.")
    until: dt.datetime | None = Query(None, description="Only records before this time.")
    user_id: uuid.UUID | None = Query(None, description="Whose records (clinicians; default: all visible).")

    def filters(self) -> dict[str, Any]:
        """The keyword arguments of clinical_reads.list_records."""
        return {"limit": self.limit, "offset": self.offset, "since": self.since, "until": self.until,
                "user_id": self.user_id}
