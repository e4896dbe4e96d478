"""The domain: use-cases and the share-request state machine. Knows neither Slack nor HTTP."""
