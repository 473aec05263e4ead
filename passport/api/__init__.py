"""The REST API (/api/v1/): serializers validate, services decide, output serializers render."""
