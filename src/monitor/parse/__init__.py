"""Parsing: feed documents (bytes and headers, never a URL) -> items. `feed` (one document), `pool` (where documents are
parsed: in this process or in helper processes), `boilerplate` (what is not the article), `saved` (saved documents
of the past, for `monitor import` and `monitor backfill`)."""
