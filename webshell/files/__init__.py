"""File transfer routes (upload, download, listing)."""
