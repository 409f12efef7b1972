"""``vnsearch crawl``: fetch a live portal with Scrapy into a crawl store.

Modules: ``config`` (site file or start URL), ``urls`` (one spelling per page),
``decode`` and ``legacy`` (charsets, TCVN3/VNI), ``extract`` (page to article,
with the file sources' parsers), ``store`` (the SQLite crawl store), ``spider``
(what to ask for, what to keep), ``run`` (one crawl in this process), ``cli``.
The index is written only by ``indexer.update`` and ``indexer.build``, which
reads the crawl store through ``indexer.sources.crawlstore``.
"""
