"""Black-box crash tests: real processes SIGKILLed at every step of a flow, then restarted."""
