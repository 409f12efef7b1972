"""vnsearch search API: the search service and its Falcon app."""
