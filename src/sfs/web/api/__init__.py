"""The REST API at /api/v1, documented at /api/v1/openapi.json."""
