"""Full-text search over a user's notes, tolerant of the recognizer's misreadings.

`index` keeps one entry per line (its words and the recognizer's alternative readings) and a
per-user vocabulary, rebuilt when a note's text changes (`receivers`). `query.search` parses a
websearch-like query (`syntax`), widens each word to the vocabulary words a few edits away, and
asks the database's own full-text engine (`backends`: PostgreSQL tsvector + pg_trgm, SQLite
FTS5) for the lines, ranked exact > fuzzy > alternative-only. `highlight` marks the hits.
"""
