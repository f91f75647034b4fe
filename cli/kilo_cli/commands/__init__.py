"""Command groups: each module here defines ``register(app)``. ``kilo_cli.main.COMMANDS``
names the module of each top-level command with its one-line help, so ``kilo --help`` imports
none of them; adding a capability's commands means adding one module and one line there (a
test checks that the two agree)."""
