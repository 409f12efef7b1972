"""vnsearch indexer: Vietnamese analysis, sources, the Whoosh index and the admin CLI."""
