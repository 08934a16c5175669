"""erk service."""
