"""The journal inspector page (GET /_mockbay/ui): static files read with importlib.resources."""
