"""What every kiosk page shares: the templates, the signed-in session as a dependency (signed out → sign-in page,
idle → lock screen), the selected patient, and rendering that refreshes the session cookie."""
from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from edge.app import session as sessions
from edge.app.session import Session
from edge.store import Store
from edge.voice.ws import voice_store
from protocol.errors import HealthSyncError

HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=str(HERE / "templates"))

# Screens in the order of the menu: (path, label, who sees it).
SCREENS = [("/patients", "Patients", "staff"), ("/vitals", "Vitals", "all"), ("/voice", "Speak a symptom", "all"),
           ("/scan", "Scan", "staff"), ("/therapy", "Therapy", "all"), ("/twin", "Health twin", "all"),
           ("/sync", "Sync", "all"), ("/consent", "Consent", "all")]


class Redirect(Exception):
    """Leave this page for another (sign-in, lock screen, choose a patient); handled by `redirect_handler`."""

    def __init__(self, to: str, session: Session | None = None):
        self.to, self.session = to, session


def redirect(request: Request, to: str, session: Session | None = None, *, clear: bool = False) -> Response:
    """See-other to `to` (an htmx request is told with HX-Redirect so the whole page moves), cookie refreshed."""
    if request.headers.get("hx-request"):
        response: Response = Response(status_code=204, headers={"HX-Redirect": to})
    else:
        response = RedirectResponse(to, status_code=303)
    if clear:
        response.delete_cookie(sessions.COOKIE, path="/")
    elif session is not None:
        set_cookie(request, response, session)
    return response


def set_cookie(request: Request, response: Response, session: Session) -> None:
    store = request.app.state.kiosk_store()
    response.set_cookie(sessions.COOKIE, sessions.encode(store, session), **sessions.cookie_options())


async def redirect_handler(request: Request, exc: Redirect) -> Response:
    return redirect(request, exc.to, exc.session)


def idle_s(request: Request) -> float:
    return float(request.app.state.kiosk_idle_s)


def current(request: Request, store: Store = Depends(voice_store)) -> Session | None:
    """The browser's session as its cookie says (None when signed out); locked when idle too long."""
    found = sessions.decode(store, request.cookies.get(sessions.COOKIE))
    if found is not None and not found.locked and found.idle(idle_s(request)):
        found = Session(**{**found.__dict__, "locked": True})
    return found


def signed_in(request: Request, session: Session | None = Depends(current)) -> Session:
    """A page's session: signed in and unlocked, or off to the sign-in / lock screen."""
    if session is None:
        raise Redirect("/sign-in")
    if session.locked:
        raise Redirect("/lock", session)
    return session.touched()


def staff_only(session: Session = Depends(signed_in)) -> Session:
    """A staff screen (patients, scan): a patient is sent to their own vitals."""
    if not session.staff:
        raise Redirect("/vitals", session)
    return session


def patient_of(session: Session) -> uuid.UUID:
    """The patient being seen; staff without one are sent to choose one."""
    if not session.patient_id:
        raise Redirect("/patients?choose=1", session)
    return uuid.UUID(session.patient_id)


def patient_header(store: Store, session: Session) -> dict[str, Any] | None:
    """Name and age line of the patient being seen (shown in the page header; never in a URL)."""
    if not session.patient_id:
        return None
    from edge import patients

    try:
        return patients.describe(store, uuid.UUID(session.patient_id))
    except HealthSyncError:
        return None


def render(request: Request, name: str, session: Session | None, *, status_code: int = 200, **context: Any
           ) -> HTMLResponse:
    """A page (or an htmx partial, for names starting with `_`) with the menu for the session's role."""
    store = request.app.state.kiosk_store()
    menu = []
    if session is not None and not session.locked:
        menu = [(p, label) for p, label, who in SCREENS if who == "all" or session.staff]
    response = templates.TemplateResponse(request, name, {
        "session": session, "menu": menu, "path": request.url.path, "idle_s": idle_s(request),
        "patient": patient_header(store, session) if session and not session.locked else None, **context},
        status_code=status_code)
    response.headers["Cache-Control"] = "no-store"  # pages hold PHI: never kept in the browser's HTTP cache
    if session is not None:
        set_cookie(request, response, session)
    return response


def error_text(exc: HealthSyncError) -> dict[str, Any]:
    """An error as the page shows it: the sentence, what to do, and the form field to highlight."""
    return {"message": exc.message, "hint": exc.hint, "field": exc.field, "code": str(exc.code)}
