"""Write tests/data/hostile_inputs.jsonl: the hostile input corpus of the API tests.

    python tests/data/make_hostile.py            # rewrite the file
    python tests/data/make_hostile.py --check    # exit 1 if the file is stale

Deterministic (fixed seeds, no clock): the committed file is exactly what this
script writes, and tests/test_api_hostile.py checks that. One JSON object a
line, ASCII-only (``ensure_ascii``), so control characters, lone surrogates and
right-to-left marks travel safely through git and editors:

    {"kind": "syntax", "s": "title:\\"tuyên giáo\\"~3"}
    {"kind": "size", "repeat": "tuyên giáo ", "times": 9400}   (expanded on load;
                                                  optional "prefix" and "suffix")
    {"kind": "raw", "s": "q=%E0%A4%A"}                          (a raw query string)

``kind`` says what family the string comes from; ``raw`` entries are query
strings sent as they are (broken percent-encoding, odd separators), every other
entry is a value the tests percent-encode (lone surrogates as their CESU-8
bytes, as a browser would send them).
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

OUT = Path(__file__).with_name("hostile_inputs.jsonl")

# fmt: off
BASE = {
    "syntax": [
        '"', '""', '"""', '"tuyên giáo', 'tuyên giáo"', '"a" "b', "'", "''", "`", "«»", "“tuyên”",
        "*", "**", "?", "???", "tuy*", "gi?o", "*:*", "~", "tuyen~2", '"tuyên giáo"~3', "^",
        "tuyên^10", "giáo^-1", "body:x", 'title:"tuyên giáo"', "id:*", "published:[2017 TO 2018]",
        "category:{a TO b}", "_id:1", "AND", "OR", "NOT", "AND OR NOT", "NOT NOT", "a AND", "OR b",
        "&&", "||", "!", "-", "--", "- -", "-tuyên", '-"tuyên giáo"', "+", "+tuyên -giáo", "(",
        ")", "()", "((((", "))))", "[", "]", "{", "}", "[* TO *]", "{} []", "\\", "\\\\", "/",
        "/.*/", "/regex[/", ":", "::", "a:", ":a", "=", "&", "#", "%", "%%", "%s%n", "%00",
        "tb:tuyen", "bf:giao", "tp:\"a b\"", "pubts:[0 TO 9999999999]", "year:2017 OR year:2018",
        "views:>1000", "title:(a OR b)", "NOT *", "a NEAR/3 b", "a^0", "a^1e308", "a~", "a~1.5",
        "{!func}", "_query_:x", "*:* AND NOT id:x", "\\*", "\\\"", "a\\ b", "\"\\\"\"",
    ],
    "injection": [
        "<", ">", "<>", "<mark>", "</mark>", "<mark>tuyên</mark>", "<script>alert(1)</script>",
        '"><script>alert(1)</script>', "<ScRiPt>alert(1)</sCrIpT>", "<img src=x onerror=alert(1)>",
        "javascript:alert(1)", "<svg/onload=alert(1)>", "<scr<script>ipt>", "&lt;script&gt;",
        "&amp;", "&#60;script&#62;", "' OR '1'='1", "1; DROP TABLE articles; --", "admin'--",
        '" OR 1=1 --', "UNION SELECT * FROM users", "${jndi:ldap://x/a}", "{{7*7}}",
        "../../etc/passwd", "$(rm -rf /)", "`id`", "\\x00", "NaN", "Infinity", "-1", "0", "1e309",
        "null", "true", "[]", "{}", '{"q": 1}',
        "1' AND SLEEP(5)--", "1 OR 1=1", "'; EXEC xp_cmdshell('dir');--",
        "' UNION ALL SELECT NULL--",
        "%27%20OR%201%3D1", "\" onmouseover=\"alert(1)", "</mark><script>alert(1)</script><mark>",
        "<iframe src=javascript:alert(1)>", "<a href=\"javascript:alert(1)\">x</a>",
        "<style>*{x:expression(alert(1))}</style>", "<!--", "-->", "<![CDATA[x]]>", "]]>",
        "<?xml version=\"1.0\"?>", "<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>",
        "{{constructor.constructor('alert(1)')()}}", "<%= 7*7 %>", "#{7*7}", "@(7*7)",
        "__proto__", "constructor", "prototype", "$where", "{\"$gt\": \"\"}", "' || '1'='1",
        "\r\nSet-Cookie: x=1", "%0d%0aSet-Cookie:x=1", "\nLocation: http://evil.example",
        "file:///etc/passwd", "/etc/passwd", "..\\..\\windows\\win.ini", "C:\\boot.ini",
        "http://127.0.0.1:22/", "gopher://x", "data:text/html,<script>alert(1)</script>",
    ],
    "control": [
        "\x00", "a\x00b", "\x01\x02\x03", "\x1b[31m", "\x7f", "\r\n", "\t", "\n\n", "\x0b\x0c",
        "\u0085", "\u2028\u2029", "\u200b", "\u200c\u200d", "\ufeff", "\u200e", "\u200f", "\u202e",
        "\u202etuyên\u202c", "\u2066\u2069", "\u061c", "\x00" * 64, "tuyên\x00giáo",
        "\x08\x08\x08", "\x1b]0;title\x07", "\x9b31m",
    ],
    "unicode": [
        "\u0300", "\u0301\u0301\u0301", "a" + "\u0301" * 50, "ệ", "Đ", "ð", "ǅ", "ﬁ", "İ", "ß",
        "tuye\u0302\u0301n", "😀", "👍🏽", "👨‍👩‍👧", "🇻🇳", "\U0010ffff", "\ufffd", "\uffff",
        "\ud800", "\udfff", "\ud83d", "a\udc00b", "١٢٣", "𝟙𝟚𝟛", "Ⅻ", "½", "中文", "日本語",
        "العربية", "עברית", "ภาษาไทย", "한국어", "\u3000",
        # mixed scripts and look-alikes: Cyrillic, Greek and fullwidth letters in Vietnamese words
        "Нà Nộі", "tuyеn giаo", "ΤΡ.ΗCΜ", "ＴＵＹÊＮ ＧＩÁＯ", "ｔｕｙｅｎ", "Ꭺ", "ǤǥĞ",
        "tuyên\u200fgiáo", "\u202dtuyên\u202c", "\u202bعربي tuyên\u202c", "x\u034fy", "a\u2060b",
        "ᴛᴜʏᴇɴ", "𝐭𝐮𝐲𝐞𝐧", "🅣🅤🅨🅔🅝", "tu\u0335yên", "Z̴̡̛̲̪͉̿a̷̢͖̓l̸̡͒g̵̢̾o̷̧̓",
    ],
    "size": ["x" * 255 + "😀", "ư" * 257, "a " * 33],
}
# Long runs (unit, times), written as repeat/times with the same variants.
RUNS = [
    ("a", 10_000), ("tuyên ", 5_000), ('"', 10_000), ("*", 300), (" ", 1_000), ("-", 257),
    ("(", 200), ("a ", 40), ("ư", 256),
]

# Wildcard and regex bombs: catastrophic backtracking shapes, if anything ever
# treated the text as a pattern.
BOMBS = [
    "(a+)+$", "(a|aa)+$", "(a|a?)+", "^(([a-z])+.)+[A-Z]([a-z])+$", "(.*a){20}", "a{1000000}",
    "(?:(?:(?:a)*)*)*", "\\1\\2\\3", "(?<=a)b", "[[[[[[[[", "]]]]]]]]", "(?", "(?P<x>",
    "a**", "a*?*?*?", "*a*b*c*d*e*f*g*h*i*j*", "?*?*?*?*?*?*?*?*", "a" * 60 + "!",
    "*" * 64 + "a", "(" * 64 + "a" + ")" * 64, "[a-" + "z" * 50, "\\" * 33,
    "x" + "|x" * 200, ".*.*.*.*.*.*.*.*.*.*=.*", "(\\w+\\s?)+$", "(\\d+)*$",
]
# Deep nesting of quotes and brackets.
NESTING = [
    "(" * n + "tuyên" + ")" * n for n in (10, 100, 500)
] + [
    '"' * n + "giáo" + '"' * n for n in (3, 33, 333)
] + [
    "[{(<" * 100, ">)}]" * 100, '("' * 200, '"(' * 200, "«" * 50 + "»" * 49,
    "“" * 100 + "”" * 101, '"a "b "c "d "e "f', '-"-"-"-"', '"-"-"-"', "+-" * 100,
]
NUMBERS = [
    "9" * 400, "9" * 19, "18446744073709551616", "9223372036854775808", "-9223372036854775809",
    "2147483648", "4294967296", "1e309", "-1e309", "1e-309", "0x7fffffff", "0b1", "0o7",
    "1_000", "１００", "٣", "Ⅷ", "+1", "-0", "00000000001", "1.0", "1,5", "NaN", "inf", "-inf",
    " 1", "1 ", "\t1", "1\x00", "1e3", "99999999999999999999999999999999999999",
]
# Whole query strings, sent as they are.
RAW = [
    "q=%E0%A4%A", "q=%", "q=%%", "q=%zz", "q=%G0", "q=%E0%A4", "q=%C0%AF", "q=%FF%FE",
    "q=%F4%90%80%80", "q=%ED%A0%80%ED%B0%80", "q=%ED%A0%80", "q=a%ED%B0%80b", "q=%00%00",
    "%00=1", "q=a&&&", "=", "&", "&&q", "q", "q=a=b", "q=%2B%26%3D", ";q=1", "q=a;b",
    "q=\u00e9", "page=%00", "page=%E0%A4%A", "facets=%00", "facets=%", "from=%E0%A4%A",
    "year=%FF", "category=%ED%A0%80", "q=+&page=+&per_page=+", "q[]=a", "q.x=1", "facets",
    "facets=,,,", "sort=relevance%00", "q=%u0041", "q=%25%32%35", "q=%%32%35", "q=%C2",
    "q=%E2%80%AE", "q=%EF%BB%BF", "q=%F0%9F%98", "page=1&page=2", "q=a&q=b", "limit=1&limit=2",
    "q=" + "%22" * 500, "q=" + "%28" * 1000, "category=" + "&category=".join(["x"] * 21),
]
# fmt: on

# Characters query parsers, URL decoders and HTML treat specially.
NASTY = (
    "\"*?~^:()[]{}\\/-+!&|<>=%#'` \t\n\x00\x01\x1b\u200b\u200e\u202e\ufeff\u0301\u0300"
    "aeêếệoơờưđĐ😀\ud800\udfff中"
)


def entries() -> list[dict]:
    out: list[dict] = []
    seen: set[str] = set()

    def add(kind: str, s: str) -> None:
        if s not in seen:
            seen.add(s)
            out.append({"kind": kind, "s": s})

    # The string alone, inside a real query, repeated, quoted, excluded.
    variants = (("", "", 1), ("tuyên giáo ", "", 1), ("", " hoà bình", 1), ("", "", 3),
                ('"', '"', 1), ("-", "", 1))  # fmt: skip
    for kind, strings in BASE.items():
        for b in strings:
            for prefix, suffix, times in variants:
                add(kind, prefix + b * times + suffix)
    for unit, n in RUNS:
        for prefix, suffix, times in variants:
            row = {"kind": "size", "repeat": unit, "times": n * times}
            out.append({**row, "prefix": prefix, "suffix": suffix} if prefix or suffix else row)
    for b in BOMBS:
        add("bomb", b)
        add("bomb", f"tuyên {b} giáo")
    for b in NESTING:
        add("nesting", b)
    for n in NUMBERS:
        add("number", n)
    rng = random.Random(20170307)
    for _ in range(150):
        add("random", "".join(rng.choice(NASTY) for _ in range(rng.randint(1, 60))))
    rng = random.Random(8)
    for _ in range(60):
        # Random code points from every plane, surrogates and non-characters included.
        add("random", "".join(chr(rng.randrange(0x110000)) for _ in range(rng.randint(1, 40))))
    # 100 KB strings, stored as repeat/times and expanded on load.
    for unit in ("a", "tuyên giáo ", '"', "(", "*", "\x00", "<script>", "😀", "\u202e", "-"):
        out.append({"kind": "size", "repeat": unit, "times": 100_000 // len(unit.encode())})
    for raw in RAW:
        out.append({"kind": "raw", "s": raw})
    return out


def render() -> str:
    return "".join(json.dumps(e, ensure_ascii=True) + "\n" for e in entries())


def load(path: Path = OUT) -> list[dict]:
    """The entries of the corpus with ``repeat``/``times`` expanded to ``s``."""
    rows = []
    for line in path.read_text("ascii").splitlines():
        row = json.loads(line)
        if "repeat" in row:
            run = row.pop("repeat") * row.pop("times")
            row["s"] = row.pop("prefix", "") + run + row.pop("suffix", "")
        rows.append(row)
    return rows


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        if OUT.read_text("ascii") != text:
            print(f"{OUT} is stale: run python {Path(__file__).name}", file=sys.stderr)
            return 1
        return 0
    OUT.write_text(text, "ascii")
    print(f"{OUT}: {len(text.splitlines())} entries")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
