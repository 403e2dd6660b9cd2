"""The REST API (`/api/v1/`) for mobile clients: the same services and selectors as the pages."""
