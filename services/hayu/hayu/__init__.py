"""hayu service."""
