"""The port through which the domain speaks to Meta, owned by the domain.

`port` is what the flows ask of Meta (the `Meta` Protocol), `types` the values its calls
return, `errors` the failures they raise. `bot.graph` implements the port over HTTP; the
port imports neither HTTP, Slack nor `bot.graph`, so everything above can depend on it.
"""
