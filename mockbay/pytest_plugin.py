"""pytest plugin: fixtures `mockbay` and `mockbay_server`, marker `mockbay` (issue 6)."""
