"""Meta's routes, a module per Graph node; `ROUTES` is the table the pipeline matches against.

A route is (method, node kind, edge) -> handler(world, call). Handlers check what Meta checks
and change the world through its methods; authentication, faults and budget come before them.
"""

from __future__ import annotations

from bot.sandbox.router import RouteTable
from bot.sandbox.routes import accounts, businesses, events, pixels, requests
from bot.sandbox.routes.batch import BATCH_ROUTE

ROUTES = RouteTable(
    (
        *pixels.ROUTES,
        *events.ROUTES,
        *businesses.ROUTES,
        *requests.ROUTES,
        *accounts.ROUTES,
        BATCH_ROUTE,
    )
)

__all__ = ["ROUTES"]
