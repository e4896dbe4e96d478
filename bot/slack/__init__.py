"""Presentation: Slack listeners, one module per surface, and pure Block Kit builders."""
