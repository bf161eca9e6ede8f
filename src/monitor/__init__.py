"""monitor: a media-monitoring daemon for news feeds, themes and weekly digests."""

from importlib.metadata import PackageNotFoundError, version

try:
    # Read once, from the installed metadata: pyproject.toml is the one place the version is written.
    __version__ = version("monitor")
except PackageNotFoundError:  # a source tree run without being installed
    __version__ = "0+unknown"
