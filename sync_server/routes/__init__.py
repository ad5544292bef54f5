"""Every API router, listed in one place: add a router here and `create_app` mounts it."""
from sync_server.routes.health import router as health_router
from sync_server.routes.metrics import router as metrics_router

ROUTERS = [
    health_router,
    metrics_router,
]
