"""JSON API v1 for the public bodies' systems, described by an OpenAPI document."""
