"""The loyaltycli library: no Typer, no Rich; importable and testable alone."""
