"""The only package that imports `kubernetes`: clusters, listing, exec streams, transfers."""
