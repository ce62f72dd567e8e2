"""imhub project package: settings, ASGI router, URLs and the demo entry point."""
