"""kilo CLI."""
