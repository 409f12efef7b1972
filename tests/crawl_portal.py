"""A small district portal served on 127.0.0.1 for the crawler's tests and bench.

Pages we write, in the seed's layout (``../shared/samples/``): a home page,
listings with "Xem tiếp" pagination and "TIN ĐÃ ĐƯA", a "Xem theo ngày" page,
articles (category + Vietnamese date line, title, body, ``Số lượt người xem``),
a sitemap with ``lastmod``, an RSS feed and robots.txt; and the awkward ones: a
disallowed path, a redirect loop, a 500 that recovers, a page slower than the
timeout, a page over the size limit, a windows-1258 page, a page whose declared
charset lies, a TCVN3 page, and the same article linked with tracking
parameters and fragments. ``ETag``/``Last-Modified`` are sent and honoured (304).

The server logs every request (path, status, start and end time) and the
highest number of requests it served at once, so tests read politeness and
incremental behaviour from the server's side.
"""

from __future__ import annotations

import hashlib
import threading
import time
import unicodedata
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

CATEGORIES = ("Tin tức sự kiện", "Kinh tế", "Văn hóa - Xã hội", "Giáo dục")
MONTHS = (
    "Một",
    "Hai",
    "Ba",
    "Tư",
    "Năm",
    "Sáu",
    "Bảy",
    "Tám",
    "Chín",
    "Mười",
    "Mười Một",
    "Mười Hai",
)
SUBJECTS = (
    "công tác tuyên giáo",
    "cải cách hành chính",
    "phòng chống dịch bệnh",
    "xây dựng nông thôn mới",
    "chỉnh trang đô thị",
    "an toàn giao thông",
    "khuyến học khuyến tài",
    "bảo vệ môi trường",
    "chuyển đổi số",
    "hỗ trợ doanh nghiệp nhỏ",
    "chăm sóc người cao tuổi",
    "phát triển du lịch",
)
PLACES = ("Quận 5", "Phường 2", "Phường 7", "Phường 11", "Phường 14")


def to_cp1258(text: str) -> bytes:
    """Text as windows-1258 writes it: base letters with their vowel marks
    precomposed (â, ơ, ...), tone marks as combining characters."""
    out = bytearray()
    for ch in unicodedata.normalize("NFC", text):
        try:
            out += ch.encode("cp1258")
            continue
        except UnicodeEncodeError:
            pass
        d = unicodedata.normalize("NFD", ch)
        tones = "".join(c for c in d[1:] if c in "\u0300\u0301\u0303\u0309\u0323")
        head = unicodedata.normalize("NFC", d[0] + "".join(c for c in d[1:] if c not in tones))
        out += head.encode("cp1258") + tones.encode("cp1258")
    return bytes(out)


# TCVN3 (ABC) for the letters the fixture's TCVN3 page uses (the converter's
# table is tested separately against glibc's iconv).
_TO_TCVN3 = str.maketrans(
    "àảãáạăằẳẵắặâầẩẫấậđèẻẽéẹêềểễếệìỉĩíịòỏõóọôồổỗốộơờởỡớợùủũúụưừửữứựỳỷỹýỵĂÂÊÔƠƯĐ",
    "µ¶·¸¹¨»¼½¾Æ©ÇÈÉÊË®ÌÎÏÐÑªÒÓÔÕÖ×ØÜÝÞßáâãä«åæçèé¬êëìíîïñòóô\xadõö÷øùúûüýþ¡¢£¤¥¦§",
)


def to_tcvn3(text: str) -> bytes:
    """TCVN3 bytes; capitals the encoding lacks are typed lower case (ABC drew
    them with a second font)."""
    out = []
    for ch in unicodedata.normalize("NFC", text).translate(_TO_TCVN3):
        try:
            ch.encode("latin-1")
        except UnicodeEncodeError:
            ch = ch.lower().translate(_TO_TCVN3)
        out.append(ch)
    return "".join(out).encode("latin-1")


@dataclass
class Article:
    slug: str
    title: str
    category: str
    day: tuple[int, int, int]
    time: tuple[int, int]
    views: int
    paragraphs: list[str]
    lastmod: str = "2017-03-07"
    version: int = 1

    @property
    def path(self) -> str:
        return f"/tin-tuc/{self.slug}.aspx"

    @property
    def date_line(self) -> str:
        d, m, y = self.day
        h, mi = self.time
        ampm = "SA" if h < 12 else "CH"
        return f"{d:02d} Tháng {MONTHS[m - 1]} {y} {(h - 1) % 12 + 1}:{mi:02d}:00 {ampm}"


def make_article(i: int) -> Article:
    subject = SUBJECTS[i % len(SUBJECTS)]
    place = PLACES[i % len(PLACES)]
    day = (1 + i % 28, 1 + (i // 28) % 12, 2017 + i // 336)
    title = f"{place} triển khai {subject} năm {day[2]} (bài {i})"
    paragraphs = [
        f"Sáng ngày {day[0]}/{day[1]}/{day[2]}, Ủy ban nhân dân {place} đã tổ chức hội nghị "
        f"triển khai {subject}. Đến dự có các đồng chí trong Ban Thường vụ Quận ủy, lãnh đạo "
        "các ban ngành, đoàn thể quận và cán bộ cơ sở.",
        f"Năm qua, {place} đã chủ động phối hợp với các đơn vị thực hiện tốt {subject}, góp "
        "phần giữ vững ổn định chính trị, phát triển kinh tế - xã hội trên địa bàn quận.",
        f"Tại hội nghị, đồng chí Phó Chủ tịch ghi nhận sự nỗ lực của cán bộ và đề nghị tiếp "
        f"tục đổi mới, nâng cao chất lượng {subject} trong thời gian tới (mã số {i:05d}).",
    ]
    return Article(
        slug=f"bai-viet-{i:05d}",
        title=title,
        category=CATEGORIES[i % len(CATEGORIES)],
        day=day,
        time=(7 + i % 12, (i * 7) % 60),
        views=100 + i,
        paragraphs=paragraphs,
    )


def _page(title: str, main: str, *, style: str = "", charset: str = "utf-8") -> str:
    return f"""<!DOCTYPE html>
<html lang="vi"><head><meta http-equiv="Content-Type" content="text/html; charset={charset}">
<title>{title}</title>{style}
<link rel="alternate" type="application/rss+xml" href="/rss.xml" title="Tin mới">
</head><body>
<div class="menu"><a href="/">Trang chủ</a> <a href="/tin-tuc?page=1">Tin tức sự kiện</a>
<a href="/xem-theo-ngay">Xem theo ngày</a> <a href="/private/noi-bo.aspx">Nội bộ</a></div>
<div class="counter">SỐ LƯỢT TRUY CẬP <span>1</span><span>7</span><span>7</span><span>4</span></div>
{main}
</body></html>"""


def article_html(a: Article, others: list[Article]) -> str:
    body = "\n".join(f"<p>{p}</p>" for p in a.paragraphs)
    older = "".join(f'<li><a href="{o.path}">{o.title}</a></li>' for o in others[:3])
    main = f"""<div class="article">
<p class="ngaydang">{a.category} {a.date_line}</p>
<h1>{a.title}</h1>
<div class="noidung">{body}</div>
<p class="luotxem">Số lượt người xem: {a.views}</p>
</div>
<div class="tinkhac"><h3>TIN MỚI HƠN</h3><h3>TIN ĐÃ ĐƯA</h3><ul>{older}</ul>
<a href="/tin-tuc?page=1">Xem tiếp</a></div>"""
    return _page(a.title, main)


@dataclass
class Portal:
    """The site's content; tests change it between crawls."""

    articles: dict[str, Article] = field(default_factory=dict)
    per_page: int = 5
    extra: dict[str, tuple[int, dict[str, str], bytes]] = field(default_factory=dict)
    flaky_failures: int = 1
    slow_seconds: float = 0.0
    big_bytes: int = 0
    specials: bool = True
    delay: float = 0.0  # server-side time per page (bench: simulate a slow portal)

    def listing(self, page: int) -> str:
        items = sorted(self.articles.values(), key=lambda a: a.slug, reverse=True)
        pages = max(1, -(-len(items) // self.per_page))
        chunk = items[(page - 1) * self.per_page : page * self.per_page]
        rows = "".join(
            f'<li><a href="{a.path}">{a.title}</a> ({a.day[0]:02d}/{a.day[1]:02d}/{a.day[2]})</li>'
            for a in chunk
        )
        more = f'<a href="/tin-tuc?page={page + 1}">Xem tiếp</a>' if page < pages else ""
        main = f"<h1>Tin tức sự kiện</h1><h3>TIN ĐÃ ĐƯA</h3><ul>{rows}</ul>{more}"
        return _page(f"Tin tức sự kiện - trang {page}", main)

    def home(self) -> str:
        first = next(iter(sorted(self.articles)), None)
        links = ""
        if self.specials:
            links = "".join(
                f'<a href="{p}">{p}</a> '
                for p in (
                    "/loop-a",
                    "/flaky.aspx",
                    "/slow.aspx",
                    "/big.aspx",
                    "/cp1258.aspx",
                    "/lying.aspx",
                    "/tcvn3.aspx",
                )
            )
        if first:
            a = self.articles[first]
            links += (
                f'<a href="{a.path}?utm_source=zalo&utm_medium=social">chia sẻ</a> '
                f'<a href="{a.path}#binh-luan">bình luận</a> '
                f'<a href="{a.path}?fbclid=abc123">facebook</a>'
            )
        return _page(
            "Cổng thông tin điện tử",
            f'<h1>Trang chủ</h1><div>{links}</div><a href="/tin-tuc?page=1">Xem tiếp</a>',
        )

    def sitemap(self) -> str:
        urls = "".join(
            f"<url><loc>{{base}}{a.path}</loc><lastmod>{a.lastmod}</lastmod></url>"
            for a in sorted(self.articles.values(), key=lambda a: a.slug)
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>'
            f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
        )

    def rss(self) -> str:
        items = "".join(
            f"<item><title>{a.title}</title><link>{{base}}{a.path}</link></item>"
            for a in sorted(self.articles.values(), key=lambda a: a.slug, reverse=True)[:3]
        )
        head = '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0">'
        return f"{head}<channel>{items}</channel></rss>"


def special_pages() -> dict[str, tuple[str, bytes]]:
    """The charset pages: path -> (content type, body)."""
    cp = Article(
        "cp1258",
        "Phường 9 ra mắt mô hình chợ văn minh thương mại",
        "Kinh tế",
        (9, 3, 2017),
        (8, 30),
        321,
        [
            "Chợ Phường 9 được công nhận chợ văn minh thương mại sau một năm "
            "thực hiện. Tiểu thương cam kết niêm yết giá, bảo đảm vệ sinh an toàn thực phẩm "
            "và phòng cháy chữa cháy; người dân đánh giá cao sự thay đổi của chợ."
        ]
        * 2,
    )
    lying = Article(
        "lying",
        "Trường tiểu học Chương Dương đón nhận cờ thi đua",
        "Giáo dục",
        (10, 3, 2017),
        (9, 0),
        55,
        [
            "Trường tiểu học Chương Dương vinh dự đón nhận cờ thi đua của "
            "Ủy ban nhân dân Thành phố Hồ Chí Minh vì thành tích xuất sắc trong năm học "
            "vừa qua; thầy và trò quyết tâm giữ vững danh hiệu."
        ]
        * 2,
    )
    tc = Article(
        "tcvn3",
        "Thành phố Hồ Chí Minh tổng kết công tác thi đua khen thưởng",
        "Tin tức sự kiện",
        (11, 3, 2017),
        (14, 15),
        77,
        [
            "Việt Nam đang đẩy mạnh cải cách hành chính. Ủy ban "
            "nhân dân Thành phố Hồ Chí Minh tổng kết công tác thi đua khen thưởng, biểu dương "
            "các tập thể và cá nhân tiêu biểu của năm qua."
        ]
        * 2,
    )
    html_1258 = article_html(cp, []).replace("charset=utf-8", "charset=windows-1258")
    tc_html = article_html(tc, []).replace(
        "</title>", "</title><style>body{font-family:.VnTime}</style>"
    )
    return {
        "/cp1258.aspx": ("text/html; charset=windows-1258", to_cp1258(html_1258)),
        # Declared UTF-8, written in windows-1258: the declaration lies.
        "/lying.aspx": ("text/html; charset=utf-8", to_cp1258(article_html(lying, []))),
        "/tcvn3.aspx": ("text/html; charset=iso-8859-1", to_tcvn3_page(tc_html)),
    }


def to_tcvn3_page(html: str) -> bytes:
    """Text runs in TCVN3, markup as it is (as a .VnTime page was typed)."""
    return to_tcvn3(html)


SPECIAL_ARTICLES = {
    "/cp1258.aspx": (
        "Phường 9 ra mắt mô hình chợ văn minh thương mại",
        "2017-03-09",
        "Kinh tế",
        321,
    ),
    "/lying.aspx": (
        "Trường tiểu học Chương Dương đón nhận cờ thi đua",
        "2017-03-10",
        "Giáo dục",
        55,
    ),
    "/tcvn3.aspx": (
        "Thành phố Hồ Chí Minh tổng kết công tác thi đua khen thưởng",
        "2017-03-11",
        "Tin tức sự kiện",
        77,
    ),
}


class PortalServer:
    """Serves a Portal on 127.0.0.1 (a random free port) in a thread."""

    def __init__(self, portal: Portal):
        self.portal = portal
        self.log: list[dict] = []
        self.active = 0
        self.max_active = 0
        self._lock = threading.Lock()
        self._flaky_left = portal.flaky_failures
        self._specials = special_pages()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body are two writes: with Nagle's algorithm on, the body
            # of every response on a kept-alive connection would wait ~40 ms for
            # the client's delayed ACK.
            disable_nagle_algorithm = True

            def log_message(self, *args):  # the test reads server.log instead
                pass

            def do_GET(self):
                server._serve(self)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> PortalServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    # -- serving ---------------------------------------------------------------------

    def _serve(self, h: BaseHTTPRequestHandler) -> None:
        start = time.monotonic()
        with self._lock:
            self.active += 1
            self.max_active = max(self.max_active, self.active)
        status = 0
        try:
            status = self._respond(h)
        except (BrokenPipeError, ConnectionResetError):
            status = -1
        finally:
            with self._lock:
                self.active -= 1
                self.log.append(
                    {
                        "path": h.path,
                        "status": status,
                        "start": start,
                        "end": time.monotonic(),
                        "conditional": bool(
                            h.headers.get("If-None-Match") or h.headers.get("If-Modified-Since")
                        ),
                        "agent": h.headers.get("User-Agent", ""),
                    }
                )

    def _send(
        self,
        h,
        status: int,
        body: bytes = b"",
        ctype: str = "text/html; charset=utf-8",
        headers: dict[str, str] | None = None,
    ) -> int:
        h.send_response(status)
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        if status not in (301, 302, 304):
            h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        if body:
            h.wfile.write(body)
        return status

    def _cached(self, h, body: bytes, ctype: str, lastmod: str = "2017-03-07") -> int:
        etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        y, m, d = (int(x) for x in lastmod.split("-"))
        modified = formatdate(time.mktime((y, m, d, 0, 0, 0, 0, 0, 0)), usegmt=True)
        if h.headers.get("If-None-Match") == etag:
            return self._send(h, 304, headers={"ETag": etag})
        return self._send(h, 200, body, ctype, {"ETag": etag, "Last-Modified": modified})

    def _respond(self, h: BaseHTTPRequestHandler) -> int:
        p = self.portal
        if p.delay:
            time.sleep(p.delay)
        parts = urlsplit(h.path)
        path, query = parts.path, parts.query
        if path == "/robots.txt":
            text = f"User-agent: *\nDisallow: /private/\n\nSitemap: {self.base}/sitemap.xml\n"
            return self._send(h, 200, text.encode(), "text/plain; charset=utf-8")
        if path == "/sitemap.xml":
            body = p.sitemap().replace("{base}", self.base).encode()
            return self._cached(h, body, "application/xml")
        if path == "/rss.xml":
            body = p.rss().replace("{base}", self.base).encode()
            return self._cached(h, body, "application/rss+xml")
        if path == "/":
            return self._cached(h, p.home().encode(), "text/html; charset=utf-8")
        if path in ("/tin-tuc", "/xem-theo-ngay"):
            page = int(query.split("=")[1]) if query.startswith("page=") else 1
            return self._cached(h, p.listing(page).encode(), "text/html; charset=utf-8")
        if path.startswith("/tin-tuc/") and path.endswith(".aspx"):
            slug = path[len("/tin-tuc/") : -len(".aspx")]
            a = p.articles.get(slug)
            if a is None:
                return self._send(h, 404, b"<h1>Not found</h1>")
            # No links to other articles: a new or removed one would change every
            # page's bytes (a real portal's "TIN ĐÃ ĐƯA" box does; the test needs
            # the unchanged pages to stay byte-identical).
            return self._cached(
                h, article_html(a, []).encode(), "text/html; charset=utf-8", a.lastmod
            )
        if not p.specials:
            return self._send(h, 404, b"<h1>Not found</h1>")
        if path == "/loop-a":
            return self._send(h, 302, headers={"Location": "/loop-b"})
        if path == "/loop-b":
            return self._send(h, 302, headers={"Location": "/loop-a"})
        if path == "/flaky.aspx":
            with self._lock:
                fail = self._flaky_left > 0
                self._flaky_left -= 1
            if fail:
                return self._send(h, 500, b"<h1>Server Error</h1>")
            flaky = make_article(100)
            flaky.title = "Phường 5 ra quân làm sạch kênh rạch sau cơn mưa lớn"
            return self._cached(h, article_html(flaky, []).encode(), "text/html; charset=utf-8")
        if path == "/slow.aspx":
            time.sleep(p.slow_seconds)
            return self._send(h, 200, article_html(make_article(101), []).encode())
        if path == "/big.aspx":
            return self._send(h, 200, b"<html><body>" + b"x" * p.big_bytes + b"</body></html>")
        if path in self._specials:
            ctype, body = self._specials[path]
            return self._cached(h, body, ctype)
        return self._send(h, 404, b"<h1>Not found</h1>")

    # -- reading the log ---------------------------------------------------------------

    def requests(self, since: int = 0) -> list[dict]:
        with self._lock:
            return list(self.log[since:])

    def mark(self) -> int:
        with self._lock:
            return len(self.log)
