"""kilo."""
