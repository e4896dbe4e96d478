"""`pixelbot doctor`: is everything pixelbot depends on in place? One `Check` per finding.

Checks the database (reachable, at migration head), the secret key (opens every stored
token), each business's Meta token (valid, acting for it, allowed to list its pixels), its
admins and approvals channel, and Slack's bot token. Tokens appear only as fingerprints.
"""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.doctor.meta_checks import graph_checks, missing_permission
from bot.doctor.report import Check, Registered, summary
from bot.doctor.slack_checks import slack_checks
from bot.doctor.store_checks import check_admins, check_secret_key, registry_checks
from bot.graph.client import GraphClient

__all__ = ["Check", "Registered", "missing_permission", "run_checks", "summary"]


async def run_checks(
    settings: Settings,
    *,
    graph: GraphClient | None = None,
    slack_client: AsyncWebClient | None = None,
) -> list[Check]:
    """Every check, in report order; clients not given are built from `settings`."""
    checks, businesses = await registry_checks(settings)
    secret, tokens = check_secret_key(settings, businesses)
    checks.append(secret)
    checks += await slack_checks(settings, slack_client, businesses)
    checks += await graph_checks(settings, graph, businesses, tokens)
    checks += [check_admins(b) for b in businesses]
    return checks
