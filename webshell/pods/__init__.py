"""Console page, deep links, and the cluster / namespace / pod listing API."""
