"""Command groups. Each module here defines ``register(app)`` and an optional ``ORDER``;
``kilo_cli.main`` discovers them, so adding a capability's commands means adding one module."""
