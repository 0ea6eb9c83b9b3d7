"""A terminal session's limits, from Config (docs/PROTOCOL.md: flow control, interrupts)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Limits:
    replay_bytes: int
    window: int
    batch: int
    # Interrupt semantics (docs/PROTOCOL.md): these input bytes discard a flood's backlog.
    interrupt_chars: bytes = b"\x03\x1c\x1a"
    skip_quiet: float = 0.1       # the flood has stopped when the stream is quiet this long
    skip_max: float = 5.0         # and delivery resumes after this long in any case
    skip_rearm: float = 2.0       # after a quiet end, a backlog that resumes this soon is skipped too
    skip_slice: float = 0.02      # while skipping, other terminals get a turn this often
    skip_tail: int = 16384        # at most this much of the skipped output's end is shown
    flood_bytes: int = 65536      # an interrupt skips only when this much output is pending
    flood_window: float = 1.0     # ... counting what was read over about this many seconds
    lag: float = 1.0              # what may queue for a client: about this many seconds of it
    recv_buffer_min: int = 65536  # bounds of the exec connection's socket receive buffer
    recv_buffer_max: int = 1 << 20
    pump_wake: float = 1.0        # the sender waits for a wake-up at most this long before looking again
    coalesce: float = 0.01        # after a batch of coalesce_min bytes or more that did not fill, rest this long
    coalesce_min: int = 4096
    ack_min: int = 2048           # outputs this big ask for an acknowledgement; smaller ones
    ack_every: int = 16384        # ... only once this much (at most a quarter window) went unacknowledged

    @classmethod
    def from_config(cls, cfg: dict) -> "Limits":
        return cls(cfg["REPLAY_BYTES"], cfg["OUTPUT_WINDOW"], cfg["OUTPUT_BATCH"],
                   interrupt_chars=bytes(cfg.get("INTERRUPT_CHARS", cls.interrupt_chars)),
                   **{k: cfg[n] for k, n in _CONFIG_NAMES.items() if n in cfg})


_CONFIG_NAMES = {"skip_quiet": "INTERRUPT_QUIET", "skip_max": "INTERRUPT_MAX_SKIP",
                 "skip_slice": "INTERRUPT_SLICE", "skip_rearm": "INTERRUPT_REARM",
                 "skip_tail": "INTERRUPT_TAIL_BYTES", "flood_bytes": "INTERRUPT_FLOOD_BYTES",
                 "flood_window": "INTERRUPT_FLOOD_WINDOW",
                 "lag": "OUTPUT_LAG", "recv_buffer_min": "EXEC_RECV_BUFFER_MIN",
                 "recv_buffer_max": "EXEC_RECV_BUFFER_MAX", "pump_wake": "PUMP_WAKE",
                 "coalesce": "OUTPUT_COALESCE", "coalesce_min": "OUTPUT_COALESCE_MIN",
                 "ack_min": "OUTPUT_ACK_MIN", "ack_every": "OUTPUT_ACK_EVERY"}
