"""The service that `monitor run` starts: the daemon (`daemon`), what a reload of the config changes under it
(`reloading`), one daemon per database (`pidlock`), and optional metrics for Prometheus (`metrics`)."""
