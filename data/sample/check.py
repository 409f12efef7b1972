"""Sanity check of the sample corpus in data/sample (format and the trap facts of README.md).

Run from anywhere:  python data/sample/check.py
Exits 0 and prints a summary when every fact holds, 1 with the list of failures otherwise.
Standard library only, so it runs before the project is installed.
"""

from __future__ import annotations

import json
import re
import sys
import unicodedata
from collections import Counter
from datetime import date, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ARTICLES = HERE / "articles.jsonl"
PAGES = HERE / "pages"

TOTAL = 48
REQUIRED = ("id", "title", "body", "site", "url", "views")
KEY_ORDER = ("id", "title", "body", "published", "category", "site", "url", "views")
SITES = {"quan5": 28, "quan1": 12, "tintuc": 8}
HOSTS = {
    "quan5": "https://quan5.example.gov.vn/",
    "quan1": "https://quan1.example.gov.vn/",
    "tintuc": "https://tintuc.example.vn/",
}
CATEGORIES = {
    "Tin tức sự kiện",
    "Văn hóa - Xã hội",
    "Kinh tế",
    "Giáo dục",
    "Y tế",
    "Cải cách hành chính",
    "Thời sự",
}
PER_YEAR = {2016: 6, 2017: 17, 2018: 8, 2019: 6, 2023: 5, 2024: 4}
PER_MONTH_2017 = {1: 1, 3: 7, 4: 2, 5: 1, 7: 1, 9: 2, 11: 2, 12: 1}
PER_DAY_MARCH_2017 = {7: 2, 15: 2, 24: 2, 29: 1}
DATE_ONLY = {"q5-2016-002", "q5-2017-009", "q5-2018-004", "q5-2019-004", "q1-2024-002"}
UNDATED = {"faq-khai-sinh", "faq-xac-nhan-hon-nhan"}

NFD_ID = "q5-2018-003"  # T3
LONG_ID = "q5-2019-001"  # T11: the one body longer than 1,200 characters
CAPS_ID = "q5-2017-008"  # T4
SCRIPT_ID = "q1-2017-001"  # T8
OLD_STYLE_ID = "q5-2016-003"  # T2 (hoà, khoẻ, thuỷ, văn hoá ...)
NEW_STYLE_ID = "q5-2023-001"  # T2 (hòa, khỏe, thủy)
STOPWORD_TITLES = {"q1-2018-001", "q1-2019-001", "q1-2023-002", "tt-2024-001"}  # T11
CLUSTER = {"q5-2017-004", "q5-2018-004", "q5-2019-003", "tt-2023-002"}  # T10

# Exact (case-insensitive, NFC) substring of title + body -> the ids that contain it.
CONTAINS: dict[str, set[str]] = {
    # T1 / T5
    "tuyên giáo": {"q5-2018-002"},
    "công tác tuyên giáo": {"q5-2018-002"},
    "ban tuyên giáo": {"q5-2018-002"},
    "tuyến giao": {"tt-2017-001"},
    "tuyến giao thông": {"tt-2017-001"},
    "tuyến giao hàng": {"tt-2017-001"},
    "tuyên truyền": {"q5-2017-005", "q5-2018-002", "q5-2019-001"},
    "công tác tuyên truyền, giáo dục": {"q5-2017-005"},
    # T2
    "hoà bình": {OLD_STYLE_ID},
    "khoẻ": {OLD_STYLE_ID},
    "thuỷ": {OLD_STYLE_ID},
    "hòa bình": {NEW_STYLE_ID},
    "khỏe": {NEW_STYLE_ID},
    "thủy": {NEW_STYLE_ID},
    # T4
    "đà nẵng": {"q5-2017-010"},
    # T6 (abbreviations and full forms never share an article)
    "ubnd quận 5": {"q5-2017-010", "q5-2017-011", "q5-2019-004"},
    "ubnd": {"tt-2016-001", "q5-2017-010", "q5-2017-011", "q5-2019-004", "tt-2023-001"},
    "ủy ban nhân dân quận 5": {"q5-2017-009", "q5-2018-001", "q5-2019-001"},
    "ủy ban nhân dân": {
        "q5-2017-003",
        "q1-2017-001",
        "q5-2017-008",
        "q5-2017-009",
        "q5-2018-001",
        "q1-2018-001",
        "q5-2019-001",
        "q1-2019-001",
        "q1-2023-001",
        "q1-2024-001",
        "faq-khai-sinh",
        "faq-xac-nhan-hon-nhan",
    },
    "hđnd": {"q5-2016-002", "q5-2019-004"},
    "hội đồng nhân dân": {"q5-2019-001"},
    "mttq": {"q5-2016-001", "q5-2016-002", "q5-2019-004"},
    "mặt trận tổ quốc": {"q5-2017-009"},
    "tp.hcm": {
        "tt-2016-001",
        "tt-2017-001",
        "tt-2017-002",
        "tt-2018-001",
        "tt-2019-001",
        "tt-2023-001",
        "tt-2023-002",
        "tt-2024-001",
    },
    "thành phố hồ chí minh": {"q1-2017-002", "q5-2018-001", "q5-2019-001"},
    "q.5": {"tt-2016-001", "tt-2017-001", "tt-2019-001", "tt-2023-001", "tt-2023-002"},
    # T7
    "nguyễn văn bình": {
        "q5-2017-010",
        "q5-2017-011",
        "q5-2018-001",
        "q5-2019-001",
        "q5-2019-004",
    },
    "trần thị lan": {"q5-2016-004", "q5-2017-003"},
    "chợ bình tây": {"q5-2017-001", "tt-2019-001"},
    "đường trần hưng đạo": {"tt-2016-001", "q5-2017-001", "q5-2017-007"},
    "chợ lớn": {
        "q5-2016-001",
        "q5-2017-001",
        "tt-2017-001",
        "q5-2017-010",
        "q5-2017-011",
        "tt-2018-001",
        "tt-2019-001",
        "q5-2024-001",
    },
    # T8
    "<script>alert(1)</script>": {SCRIPT_ID},
    "<": {SCRIPT_ID},
    ">": {SCRIPT_ID},
    # T9
    "quý": {"q5-2017-006"},
    "quí": {"q5-2019-002"},
    "kỹ thuật": {"q5-2017-006"},
    "kĩ thuật": {"q5-2019-002"},
    # T10
    "sốt xuất huyết": CLUSTER,
    "lăng quăng": CLUSTER,
    "vật chứa nước": CLUSTER,
    "muỗi": CLUSTER,
    "muỗi vằn": {"q5-2017-004", "q5-2019-003", "tt-2023-002"},
    "phun hóa chất": {"q5-2018-004", "q5-2019-003", "tt-2023-002"},
    "ổ dịch": {"q5-2018-004", "q5-2019-003", "tt-2023-002"},
}
# Whole words (NFC, lower case) -> the ids that use them.
WORDS: dict[str, set[str]] = {
    "quý": {"q5-2017-006"},
    "quí": {"q5-2019-002"},
    "kỹ": {"q5-2017-006"},
    "kĩ": {"q5-2019-002"},
    "lí": {"q5-2019-002"},
    "kí": {"q5-2019-002"},
    "kì": set(),
    "tỉ": set(),
}
WORD_COUNTS = {"lý": 13, "ký": 7, "kỳ": 11}  # number of articles using the word
# Adjacent words after folding (lower case, no diacritics, đ -> d, punctuation ignored).
FOLDED_BIGRAMS = {
    ("tuyen", "giao"): {"q5-2018-002", "tt-2017-001"},
    ("hoa", "binh"): {OLD_STYLE_ID, NEW_STYLE_ID},
    ("da", "nang"): {"q5-2017-010"},
}
FOLDED_WORDS = {"khoe": {OLD_STYLE_ID, NEW_STYLE_ID}, "thuy": {OLD_STYLE_ID, NEW_STYLE_ID}}

# Tone mark on the second vowel of open oa/oe/uy ("hoà", "khoẻ", "thuỷ") vs on the first.
OLD_STYLE = re.compile(r"(?i)(?:o[àáảãạ]|o[èéẻẽẹ]|(?<![q])u[ỳýỷỹỵ])(?!\w)")
NEW_STYLE = re.compile(r"(?i)(?:[òóỏõọ][ae]|[ùúủũụ]y)(?!\w)")

MONTHS = [
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
]
PAGE_FILES = {
    "quan5-2017-04-12-ve-sinh-moi-truong.txt": "q5-2017-007",
    "quan5-2018-11-20-nha-giao.txt": "q5-2018-005",
}
STAMP = re.compile(
    r"^(?P<cat>.+) (?P<d>\d{2}) Tháng (?P<m>"
    + "|".join(sorted(MONTHS, key=len, reverse=True))
    + r") (?P<y>\d{4}) (?P<h>\d{1,2}):(?P<mi>\d{2}):(?P<s>\d{2}) (?P<ap>SA|CH)$"
)
CHROME = [
    "TIN MỚI HƠN",
    "",
    "TIN ĐÃ ĐƯA",
    "",
    "Xem tiếp",
    "Xem theo ngày Xem theo ngày",
    "  • Video demo",
    "Tìm kiếm",
]


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def fold_words(text: str) -> list[str]:
    text = unicodedata.normalize("NFD", nfc(text).lower().replace("đ", "d"))
    text = "".join(c for c in text if not unicodedata.combining(c))
    return re.findall(r"\w+", text)


def full_text(rec: dict) -> str:
    return nfc(rec["title"] + "\n" + rec["body"])


def parse_published(value: str) -> datetime | date:
    if "T" in value:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+07:00", value):
            raise ValueError(value)
        return datetime.fromisoformat(value)
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError(value)
    return date.fromisoformat(value)


def sentences(body: str) -> int:
    return len(re.findall(r"[.?!](?=\s|$)", body))


def load() -> list[dict]:
    raw = ARTICLES.read_bytes().decode("utf-8")
    if not raw.endswith("\n"):
        raise ValueError("articles.jsonl must end with a newline")
    return [json.loads(line) for line in raw.splitlines()]


def check_records(recs: list[dict], err: list[str]) -> None:
    raw = ARTICLES.read_text(encoding="utf-8")
    if "\\u" in raw:
        err.append("articles.jsonl contains \\u escapes (write with ensure_ascii=False)")
    if len(recs) != TOTAL:
        err.append(f"{len(recs)} articles, expected {TOTAL}")
    ids = [r.get("id") for r in recs]
    for dup, n in Counter(ids).items():
        if n > 1:
            err.append(f"id {dup} appears {n} times")
    for dup, n in Counter(r.get("url") for r in recs).items():
        if n > 1:
            err.append(f"url {dup} appears {n} times")
    for r in recs:
        rid = r.get("id")
        missing = [k for k in REQUIRED if k not in r]
        if missing:
            err.append(f"{rid}: missing {missing}")
            continue
        if tuple(k for k in KEY_ORDER if k in r) != tuple(r):
            err.append(f"{rid}: unexpected keys or key order {list(r)}")
        if r["site"] not in SITES:
            err.append(f"{rid}: site {r['site']!r}")
        elif not r["url"].startswith(HOSTS[r["site"]]):
            err.append(f"{rid}: url {r['url']} not under {HOSTS[r['site']]}")
        if not isinstance(r["views"], int) or r["views"] < 0:
            err.append(f"{rid}: views {r['views']!r}")
        if rid in UNDATED:
            if "published" in r or "category" in r or r["site"] != "quan5":
                err.append(f"{rid}: FAQ items have no published/category and site quan5")
        else:
            if r.get("category") not in CATEGORIES:
                err.append(f"{rid}: category {r.get('category')!r}")
            try:
                parse_published(r.get("published", ""))
            except ValueError:
                err.append(f"{rid}: published {r.get('published')!r}")
            if ("T" not in r.get("published", "T")) != (rid in DATE_ONLY):
                err.append(f"{rid}: date-only status differs from DATE_ONLY")
        body = nfc(r["body"])
        paras = body.split("\n")
        if any(p != p.strip() or not p for p in paras) or r["title"] != r["title"].strip():
            err.append(f"{rid}: empty paragraph or stray whitespace")
        if rid == LONG_ID:
            if not 2300 <= len(body) <= 2700:
                err.append(f"{rid}: long article has {len(body)} characters")
        elif not (400 <= len(body) <= 1200 and 3 <= sentences(body) <= 8):
            err.append(f"{rid}: body {len(body)} chars, {sentences(body)} sentences")
        for key, value in r.items():
            if not isinstance(value, str):
                continue
            if rid == NFD_ID and key in ("title", "body"):
                if value != unicodedata.normalize("NFD", value) or value == nfc(value):
                    err.append(f"{rid}: {key} must be NFD (and differ from NFC)")
            elif value != nfc(value):
                err.append(f"{rid}: {key} is not NFC")


def check_counts(recs: list[dict], err: list[str]) -> dict[str, Counter]:
    dated = [(r["id"], parse_published(r["published"])) for r in recs if "published" in r]
    stats = {
        "site": Counter(r["site"] for r in recs),
        "year": Counter(d.year for _, d in dated),
        "month_2017": Counter(d.month for _, d in dated if d.year == 2017),
        "day_march_2017": Counter(d.day for _, d in dated if (d.year, d.month) == (2017, 3)),
        "category": Counter(r.get("category") for r in recs),
    }
    want = {
        "site": SITES,
        "year": PER_YEAR,
        "month_2017": PER_MONTH_2017,
        "day_march_2017": PER_DAY_MARCH_2017,
    }
    for name, expected in want.items():
        if dict(stats[name]) != expected:
            err.append(f"{name} counts {dict(stats[name])} != {expected}")
    return stats


def check_traps(recs: list[dict], err: list[str]) -> None:
    texts = {r["id"]: full_text(r) for r in recs}
    lower = {rid: t.lower() for rid, t in texts.items()}
    words = {rid: re.findall(r"\w+", t) for rid, t in lower.items()}
    folded = {rid: fold_words(t) for rid, t in texts.items()}

    def report(what: str, got: set[str], expected: set[str]) -> None:
        if got != expected:
            err.append(f"{what}: {sorted(got)} != {sorted(expected)}")

    for needle, expected in CONTAINS.items():
        report(repr(needle), {i for i, t in lower.items() if needle in t}, expected)
    for word, expected in WORDS.items():
        report(f"word {word!r}", {i for i, w in words.items() if word in w}, expected)
    for word, n in WORD_COUNTS.items():
        got = sum(word in w for w in words.values())
        if got != n:
            err.append(f"word {word!r} in {got} articles, expected {n}")
    for pair, expected in FOLDED_BIGRAMS.items():
        got = {
            i
            for i, w in folded.items()
            if any(tuple(w[k : k + 2]) == pair for k in range(len(w) - 1))
        }
        report(f"folded {' '.join(pair)!r}", got, expected)
    for word, expected in FOLDED_WORDS.items():
        report(f"folded word {word!r}", {i for i, w in folded.items() if word in w}, expected)

    # T1: several mentions, and never "tuyến" in that article.
    t1 = lower["q5-2018-002"]
    if t1.count("tuyên giáo") < 5 or "tuyến" in t1 or "tuyên giáo" not in t1.split("\n")[0]:
        err.append("T1: q5-2018-002 needs 'tuyên giáo' in title and 5+ times, never 'tuyến'")
    # T5: the near miss has the three words but no "tuyên" directly followed by "giáo".
    t5 = words["q5-2017-005"]
    if not all(x in lower["q5-2017-005"] for x in ("công tác", "tuyên truyền", "giáo dục")):
        err.append("T5: q5-2017-005 lacks công tác / tuyên truyền / giáo dục")
    if any(t5[k : k + 2] == ["tuyên", "giáo"] for k in range(len(t5) - 1)):
        err.append("T5: q5-2017-005 has 'tuyên' followed by 'giáo'")
    # T2: tone placement.
    report(
        "old-style tone placement",
        {i for i, t in texts.items() if OLD_STYLE.search(t)},
        {OLD_STYLE_ID},
    )
    if NEW_STYLE.search(texts[OLD_STYLE_ID]):
        err.append(f"T2: {OLD_STYLE_ID} mixes in new-style tone placement")
    # T4: the all-capitals title.
    caps = {r["id"] for r in recs if r["title"] == r["title"].upper()}
    report("all-capitals titles", caps, {CAPS_ID})
    # T8: markup only in the body of its article.
    for r in recs:
        if "<" in r["title"] or ">" in r["title"]:
            err.append(f"{r['id']}: markup in title")
    # T10: the cluster shares its vocabulary; nobody else has any of it.
    # (covered by CONTAINS); T11: the stopword-heavy titles are questions or "những điều".
    for rid in STOPWORD_TITLES:
        title = next(r["title"] for r in recs if r["id"] == rid).lower()
        if not re.search(r"\b(những|có|gì|khi|và|không|nên)\b", title):
            err.append(f"T11: {rid} title is not stopword-heavy")


def check_pages(recs: list[dict], err: list[str]) -> None:
    by_id = {r["id"]: r for r in recs}
    found = sorted(p.name for p in PAGES.glob("*.txt"))
    if found != sorted(PAGE_FILES):
        err.append(f"pages/: {found} != {sorted(PAGE_FILES)}")
    for name, rid in PAGE_FILES.items():
        path = PAGES / name
        if not path.exists():
            continue
        text = path.read_text(encoding="utf-8")
        lines = text.split("\n")
        rec = by_id[rid]
        where = f"pages/{name}"
        if text.endswith("\n") or "\r" in text:
            err.append(f"{where}: must use LF and have no final newline, like the portal dump")
        if lines[:2] != ["SỐ LƯỢT TRUY CẬP", ""]:
            err.append(f"{where}: visitor counter header")
            continue
        k = 2
        while k < len(lines) and re.fullmatch(r"\d", lines[k]):
            k += 1
        if k - 2 < 6:
            err.append(f"{where}: visitor counter has {k - 2} digits")
        m = STAMP.match(lines[k])
        if not m:
            err.append(f"{where}: date line {lines[k]!r}")
            continue
        hour = int(m["h"]) % 12 + (12 if m["ap"] == "CH" else 0)
        stamp = datetime(
            int(m["y"]), MONTHS.index(m["m"]) + 1, int(m["d"]), hour, int(m["mi"]), int(m["s"])
        )
        if stamp.isoformat() + "+07:00" != rec["published"] or m["cat"] != rec["category"]:
            err.append(f"{where}: date line {lines[k]!r} does not match {rid}")
        if lines[k + 1] != "" or lines[k + 2] != rec["title"]:
            err.append(f"{where}: title line")
        end = next(i for i, line in enumerate(lines) if line.startswith("Số lượt người xem: "))
        if lines[end] != f"Số lượt người xem: {rec['views']} " + "\xa0" * 3:
            err.append(f"{where}: views line {lines[end]!r}")
        if lines[end + 1 :] != ["", *CHROME]:
            err.append(f"{where}: navigation chrome after the views line")
        paras = [line.strip() for line in lines[k + 3 : end] if line.strip()]
        body = rec["body"].split("\n")
        captions = [p for p in paras if p not in body]
        if len(captions) != 1 or [p for p in paras if p in body] != body:
            err.append(f"{where}: body must be {rid}'s paragraphs plus one caption line")
        if not any(line == "\xa0" for line in lines[k + 3 : end]):
            err.append(f"{where}: no space-only (NBSP) lines")


def main() -> int:
    err: list[str] = []
    try:
        recs = load()
    except (ValueError, OSError) as exc:
        print(f"FAIL: {exc}")
        return 1
    check_records(recs, err)
    stats = check_counts(recs, err)
    check_traps(recs, err)
    check_pages(recs, err)
    if err:
        print("FAIL")
        for line in err:
            print("  " + line)
        return 1
    print(f"OK: {len(recs)} articles, {len(PAGE_FILES)} pages")
    for name, counter in stats.items():
        ordered = sorted(counter.items(), key=lambda kv: (kv[0] is None, str(kv[0]).zfill(4)))
        print(f"  {name}: {dict(ordered)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
