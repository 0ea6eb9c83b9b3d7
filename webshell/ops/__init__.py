"""Operations endpoints: /healthz, /readyz, /metrics (no login; metrics gated by setting or token)."""
