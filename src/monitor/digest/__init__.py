"""The weekly digest: one week's matches built into a `Digest` (`build`), its reports grouped into events (`events`) and
outlets into groups (`groups`), rendered with the Jinja2 `templates/` (`render`), and published: written, recorded and
sent once (`publish`) by file and SMTP (`deliver`)."""
