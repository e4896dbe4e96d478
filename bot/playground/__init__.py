"""`pixelbot playground`: try pixelbot in a browser, with a local Slack and Meta simulated."""
