"""Every API router, listed in one place: add a router here and `create_app` mounts it."""
from sync_server.routes.care import router as care_router
from sync_server.routes.devices import router as devices_router
from sync_server.routes.health import router as health_router
from sync_server.routes.marketplace import router as marketplace_router
from sync_server.routes.metrics import router as metrics_router
from sync_server.routes.patients import router as patients_router
from sync_server.routes.realtime import router as realtime_router
from sync_server.routes.records import router as records_router
from sync_server.routes.sync import router as sync_router

ROUTERS = [
    health_router,
    metrics_router,
    records_router,
    devices_router,
    sync_router,
    care_router,
    patients_router,
    marketplace_router,
    realtime_router,
]
