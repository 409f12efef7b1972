"""Code that depends on Whoosh private internals (its exact pinned release)."""
