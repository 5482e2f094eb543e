"""Modal dialogs: each asks for one thing and dismisses with the result (or None)."""
