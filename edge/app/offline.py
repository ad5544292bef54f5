"""What keeps the kiosk usable while the edge process restarts, and the API docs without a CDN.

`/sw.js` is a service worker generated from the static assets' SHA-256 hashes: its cache name is the hash of
them all, so a changed asset is a new worker that drops the old cache. It caches only the shell (static files and
the `/offline` page, no PHI): pages go to the network and, when the edge is down for a moment, the shell page says
so and retries. `/docs` is Swagger UI from the vendored files, over the app's own OpenAPI schema.
"""
from __future__ import annotations

import functools
import hashlib
import json

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from edge.app.web import HERE, render

router = APIRouter(include_in_schema=False)
STATIC = HERE / "static"
SHELL = "/offline"


@functools.lru_cache(maxsize=1)
def asset_hashes() -> dict[str, str]:
    """URL → sha256 of every static file the pages use (the vendored axe-core is for tests only: left out)."""
    out = {}
    for path in sorted(STATIC.rglob("*")):
        if path.is_file() and path.suffix in (".js", ".css", ".svg", ".png") and path.name != "axe.min.js":
            out["/static/" + path.relative_to(STATIC).as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def worker_source() -> str:
    """The service worker's JavaScript, with the asset list and cache version filled in."""
    assets = asset_hashes()
    version = hashlib.sha256(json.dumps(assets, sort_keys=True).encode()).hexdigest()[:16]
    template = (STATIC / "sw.template.js").read_text()
    return (template.replace("__VERSION__", version)
            .replace("__ASSETS__", json.dumps([*assets, SHELL]))
            .replace("__SHELL__", SHELL))


@router.get("/sw.js")
def service_worker() -> Response:
    # no-cache: the browser checks for a new worker (new asset hashes) on every load.
    return Response(worker_source(), media_type="text/javascript",
                    headers={"Cache-Control": "no-cache", "Service-Worker-Allowed": "/"})


@router.get(SHELL)
def offline_shell(request: Request) -> HTMLResponse:
    """The page shown while the edge is unreachable: no patient data, retries by itself."""
    response = render(request, "offline.html", None)
    response.headers["Cache-Control"] = "no-cache"
    return response


@router.get("/docs")
def docs(request: Request) -> HTMLResponse:
    """Swagger UI from the vendored bundle (works offline)."""
    return render(request, "docs.html", None)
