"""Fetching: one polite HTTP GET of one feed (`http`), the socket layer under it that holds the deadline (`netguard`),
which networks a redirect may lead to (`addresses`), and the web-archive client (`archive`)."""
