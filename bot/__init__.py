"""pixelbot: share Meta pixels between businesses from Slack."""

__version__ = "0.1.0"
