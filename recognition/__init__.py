"""Notes: collections, uploads, background recognition, pages and lines."""
