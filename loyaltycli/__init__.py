"""loyaltycli: a loyalty program manager for small shops."""

__version__ = "0.1.0"
