"""An app factory for tests and demos that start the server as a process: the sync routers always mounted."""
from __future__ import annotations

from sync_server.app import create_app
from sync_server.config import Settings


def app_from_env():
    """`uvicorn sync_server.sync_testing:app_from_env --factory`: settings from the environment."""
    from sync_server.routes import ROUTERS
    from sync_server.routes.devices import router as devices_router
    from sync_server.routes.sync import router as sync_router

    app = create_app(Settings.from_env())
    for r in (sync_router, devices_router):
        if r not in ROUTERS:
            app.include_router(r)
    return app
