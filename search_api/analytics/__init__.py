"""vnsearch analytics: what people search for, read from the search events."""
