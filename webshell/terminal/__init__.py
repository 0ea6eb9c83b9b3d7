"""Terminal sessions (domain, no Flask) and the Socket.IO namespace that drives them."""
