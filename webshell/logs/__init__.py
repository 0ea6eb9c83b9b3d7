"""The logs pane's HTTP route."""
