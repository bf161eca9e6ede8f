"""Who an item is: canonical links and identity keys, so a story is stored once however it arrives."""

from __future__ import annotations

import hashlib
import re
from urllib.parse import unquote, urlsplit, urlunsplit

# Query parameters that only say how a reader got to a page, never which page it is: analytics suites'
# (Google's utm_, AT Internet's at_ and xtor, comScore's ns_, Mailchimp's mc_, Matomo's pk_, HubSpot's,
# Webtrends' wt.), ad clicks (fbclid, gclid...) and outlets' own feed tags (`traffic_source=rss`,
# `CMP=share_btn_tw`, `ito`, `ocid`, `ncid`, `icid`). docs/identity.md lists them.
_TRACKING_PREFIXES = ("utm_", "at_", "ns_", "mc_", "pk_", "_hs", "hsa_", "wt.")
_TRACKING_NAMES = {
    "fbclid",
    "gclid",
    "dclid",
    "gbraid",
    "wbraid",
    "msclkid",
    "yclid",
    "igshid",
    "mkt_tok",
    "cmp",
    "cmpid",
    "ocid",
    "ncid",
    "icid",
    "xtor",
    "ito",
    "ref_src",
    "ref_url",
    "smid",
    "sr_share",
    "_ga",
    "_gl",
    "s_cid",
    "s_kwcid",
    "soc_src",
    "soc_trk",
    "traffic_source",
    "guccounter",
    "guce_referrer",
    "guce_referrer_sig",
    "__twitter_impression",
}
# `ref` names the referrer (`?ref=rss`, `?ref=twitter.com`, a blog engine's `?ref=site-name`), but some
# catalogues number their pages with it: a value that is a plain number may be the page, so it stays.
_NUMBER = re.compile(r"[0-9]+")


def canonical_url(url: str | None) -> str | None:
    """The link to store and compare: scheme and host lower-cased, default port, fragment and tracking
    parameters dropped. None for what is not an http(s) URL (a `javascript:` link, a `tag:` URI)."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    if scheme not in ("http", "https") or not host:
        return None
    default_port = {"http": 80, "https": 443}[scheme]
    netloc = host if port in (None, default_port) else f"{host}:{port}"
    if ":" in host and not host.startswith("["):  # an IPv6 literal keeps its brackets
        netloc = f"[{host}]" if port in (None, default_port) else f"[{host}]:{port}"
    # Filter the raw pieces rather than re-encode the query: `?/archives/12` or `?a=1;b=2` must survive
    # exactly as the site wrote them.
    query = "&".join(p for p in parts.query.split("&") if p and not _is_tracking(*p.partition("=")[::2]))
    return urlunsplit((scheme, netloc, parts.path or "/", query, ""))


def address(url: str) -> str:
    """A URL as feeds are matched by: canonical, without its scheme (http and https are one feed)."""
    canonical = canonical_url(url) or url.strip()
    return canonical.split(":", 1)[1] if canonical.startswith(("http:", "https:")) else canonical


def _is_tracking(name: str, value: str = "") -> bool:
    lowered = unquote(name).lower()
    if lowered == "ref":
        return not _NUMBER.fullmatch(unquote(value).strip())
    return lowered in _TRACKING_NAMES or lowered.startswith(_TRACKING_PREFIXES)


def item_key(feed_id: int, guid: str | None, link: str | None, title: str, feed_date: str | None) -> str:
    """The identity of an item across polls and feeds.

    1. A guid that is a URL names the story itself, so it is global: two feeds carrying the same
       permalink carry the same item.
    2. Any other guid is only unique within its feed (feeds number their items 1, 2, 3...).
    3. Without a guid, the canonical link.
    4. Without either, a hash of the title and the feed's own date, within the feed.
    URL keys leave out the scheme: http and https copies of a link are the same story.
    """
    guid = (guid or "").strip()
    if guid:
        as_url = canonical_url(guid)
        if as_url:
            return "url:" + _without_scheme(as_url)
        return f"guid:{feed_id}:{guid}"
    canonical = canonical_url(link)
    if canonical:
        return "url:" + _without_scheme(canonical)
    digest = hashlib.sha256(f"{title}\x1f{feed_date or ''}".encode()).hexdigest()[:32]
    return f"hash:{feed_id}:{digest}"


def _without_scheme(url: str) -> str:
    return url.split(":", 1)[1]


def content_hash(*parts: str | None) -> str:
    """A short fingerprint of an item's visible content: when it changes, the item was updated."""
    return hashlib.sha256("\x1f".join(p or "" for p in parts).encode()).hexdigest()[:32]
