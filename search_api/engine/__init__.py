"""The query engine, one module per pipeline stage (no HTTP here).

request    SearchRequest, sorts and facets, errors, the per-query deadline
service    SearchService: snapshots, the result cache, the stages in order
snapshot   one open generation as NumPy arrays (columns in ``columns``)
query      what a visitor types -> syllables, phrases, exclusions
expansion  abbreviations, y/i spellings, Telex
reading    Telex decoding and the likely accented reading (did-you-mean)
clauses    the units a query is matched by; questions; long-query cuts
phrases    quoted phrases and exclusions, verified on positions
plan       matching and scoring of one query, step by step
ranking    RankingSettings: every weight and threshold
scoring    BM25, pair terms, proximity rescoring (runs from ``proximity``)
filters    filter masks and sort orders; ``facets`` counts values
response   the answer: hits, highlights (``highlight``), facets, flags
browse     neighbours and related articles of one article
suggest    search-as-you-type, over the title index of ``titles``

Whoosh's private internals are read only through
indexer/whoosh_internals/reading.py.
"""
