"""Exports of notes and collections (text, Markdown, JSON, searchable PDF, ALTO, PAGE, DOCX).

`document` snapshots a note as plain data; one module per format writes it (pure functions);
`registry` names the formats; `archive` packs files into zips; `views` serves the downloads and
the ALTO/PAGE import page (whose service is `recognition.imports`).
"""
