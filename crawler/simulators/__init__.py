"""Local stand-ins for the platforms the crawler drives (tests and the demo never touch the real sites)."""
