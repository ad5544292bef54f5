"""The clinician and admin console at /console (issue 13): server-rendered Jinja2 pages with htmx and a few
vendored single-file libraries (static/vendor/VENDORED.md), signed in through Supabase Auth, every view under the
signed-in user's RLS. `install(app)` mounts it."""
from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).parent / "static"
# No inline scripts and nothing from elsewhere; inline styles only because uPlot and cytoscape size their canvases.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")


def install(app: FastAPI) -> None:
    """Mount the console's pages, static files and their error pages on the app."""
    from sync_server.console import my_care, pages, session

    app.include_router(pages.router)
    app.include_router(my_care.router)
    app.mount("/console/static", StaticFiles(directory=STATIC), name="console-static")

    async def sign_in_required(request: Request, exc: Exception) -> Response:
        if request.headers.get("hx-request"):
            return Response(status_code=200, headers={"HX-Redirect": "/console/login"})
        return RedirectResponse("/console/login", status_code=303)

    async def refused(request: Request, exc: Exception) -> Response:
        message = str(exc) if isinstance(exc, session.CsrfRefused) else "Your role has no access to this screen."
        return pages.render(request, None, "refused.html", status_code=403, message=message)

    app.add_exception_handler(session.SignInRequired, sign_in_required)
    app.add_exception_handler(session.CsrfRefused, refused)
    app.add_exception_handler(pages.NotAllowed, refused)

    app.add_middleware(ConsoleHeaders)


class ConsoleHeaders:
    """Pure ASGI: the console's security headers, and no caching of its pages (they hold patient data)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not path.startswith("/console"):
            return await self.app(scope, receive, send)

        async def with_headers(message):
            if message["type"] == "http.response.start":
                from starlette.datastructures import MutableHeaders

                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Security-Policy", CSP)
                headers.setdefault("X-Frame-Options", "DENY")
                headers.setdefault("Referrer-Policy", "no-referrer")
                headers.setdefault("X-Content-Type-Options", "nosniff")
                if not path.startswith("/console/static"):
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, with_headers)
