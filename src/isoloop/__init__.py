"""isoloop: isolated dependency-injection scopes for trading runs."""
__all__: list[str] = []
