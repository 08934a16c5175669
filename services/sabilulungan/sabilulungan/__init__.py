"""sabilulungan service."""
