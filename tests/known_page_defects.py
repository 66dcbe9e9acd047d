"""KNOWN_DEFECTS: the defects the pages have today, page by page (filled from a measured run)."""
KNOWN_DEFECTS: dict[str, dict[str, str]] = {}
