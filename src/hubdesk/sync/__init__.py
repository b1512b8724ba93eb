"""Device side of sync with the central record: client and protocol models (no TUI)."""
