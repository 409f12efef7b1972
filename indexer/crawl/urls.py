"""URLs as the crawler compares them: one spelling per page.

The same article is linked as ``/tin/a?utm_source=zalo``, ``/tin/a#binh-luan``
and ``/tin/a``; fetching each would cost three requests and, worse, index the
article three times. Fragments and tracking parameters are dropped, the query
is sorted and the scheme and host are lower-cased (``w3lib.url.canonicalize_url``,
Scrapy's own), before a URL is queued, stored or turned into a document id.
"""

from __future__ import annotations

import fnmatch
import hashlib
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from w3lib.url import canonicalize_url

__all__ = ["DEFAULT_STRIP_PARAMS", "canonical", "doc_id", "host_of"]

# Parameters that name a campaign or a click, never a different page.
DEFAULT_STRIP_PARAMS = (
    "utm_*",
    "fbclid",
    "gclid",
    "dclid",
    "msclkid",
    "zarsrc",
    "zalo_*",
    "_ga",
    "_gl",
    "mc_cid",
    "mc_eid",
    "igshid",
    "ref",
    "ref_src",
    "share",
    "sharetype",
)


def canonical(url: str, strip: tuple[str, ...] = DEFAULT_STRIP_PARAMS) -> str:
    """The URL without fragment and tracking parameters, in canonical form."""
    parts = urlsplit(url.strip())
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not any(fnmatch.fnmatchcase(k.lower(), pattern) for pattern in strip)
    ]
    cleaned = urlunsplit((parts.scheme, parts.netloc, parts.path or "/", urlencode(query), ""))
    return canonicalize_url(cleaned, keep_fragments=False)


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def doc_id(site: str, url: str) -> str:
    """A stable document id for the page at canonical ``url``: the site name and
    a hash of the URL (URLs are too long and full of ``/`` for an id in a path)."""
    digest = hashlib.blake2b(url.encode("utf-8"), digest_size=8).hexdigest()
    return f"{site}-{digest}"
