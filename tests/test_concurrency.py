"""Many threads of one worker share a snapshot: results must equal sequential ones."""

from __future__ import annotations

import random
import threading
from datetime import datetime

from indexer.build import build
from indexer.home import IndexHome
from indexer.schema import VN_TZ
from indexer.sources import Article
from search_api.engine.request import SearchRequest
from search_api.engine.service import SearchService

WORDS = (
    "quận ủy tuyên giáo giao thông hà nội thành phố bóng đá kinh tế giá vàng học sinh "
    "phường nhân dân cán bộ hội nghị triển khai công tác năm mới đường phố"
).split()


def test_threads_get_the_same_answers_as_one_thread(tmp_path):
    rnd = random.Random(5)
    docs = [
        Article(
            id=f"d{i}",
            title=" ".join(rnd.choices(WORDS, k=8)),
            body=" ".join(rnd.choices(WORDS, k=300)),
            published=datetime(2017, 1 + i % 12, 1 + i % 28, tzinfo=VN_TZ),
        )
        for i in range(300)
    ]
    home = IndexHome(tmp_path / "ix")
    build(home, docs, workers=1)
    queries = [" ".join(rnd.sample(WORDS, rnd.randint(1, 3))) for _ in range(120)]
    queries += [q.replace("ủ", "u").replace("á", "a") for q in queries[:40]]

    def answer(svc: SearchService, q: str):
        res = svc.search(SearchRequest(q=q, per_page=20))
        return res["total_hits"], [h["id"] for h in res["hits"]]

    sequential = SearchService(str(home.path), background=False, result_cache_size=0)
    expected = {q: answer(sequential, q) for q in queries}
    sequential.close()

    shared = SearchService(str(home.path), background=False, result_cache_size=0)
    failures: list[str] = []

    def worker(seed: int) -> None:
        order = random.Random(seed).sample(queries, len(queries))
        for q in order:
            try:
                if answer(shared, q) != expected[q]:
                    failures.append(f"different answer for {q!r}")
            except Exception as exc:  # a torn read shows up as a zlib/pickle error
                failures.append(repr(exc))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    shared.close()
    assert failures == []
