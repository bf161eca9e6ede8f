"""Updating the record: one poll round (`poll`), what a feed's items change in what is stored (`reconcile`), politeness
(`policy`), when feeds are due (`schedule`), and the past: saved documents imported (`importing`) and web-archive
captures backfilled (`backfill`)."""
