"""Many replicas: the state they share in Redis and the link between them (issue 14)."""
