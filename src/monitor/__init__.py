"""monitor: a media-monitoring daemon for news feeds, themes and weekly digests."""

__version__ = "0.1.0"
