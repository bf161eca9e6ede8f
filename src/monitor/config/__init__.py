"""The configuration: every setting declared once (`settings`), `config/feeds.toml` read and validated into an immutable
`Config` (`load`), which file a command reads (`locate`), and OPML, the feed list every reader speaks (`opml`)."""
