"""Admin pages: live sessions (watch, terminate), audit log, recordings."""
