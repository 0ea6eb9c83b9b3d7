"""Fast unit tests with no cluster: frame codec, payload validation, PID announcement, throttle."""
from __future__ import annotations

import json

import pytest

from webshell.auth.throttle import LoginThrottle
from webshell.errors import BadRequest
from webshell.kube import frames, process
from webshell.origins import origin_allowed
from webshell.terminal import validate


def test_frame_round_trip():
    msg = frames.encode(frames.STDIN, b"\x00\xffabc")
    assert msg[0] == 0 and frames.decode(msg) == (0, b"\x00\xffabc")
    assert frames.decode(b"") == (-1, b"")
    ch, payload = frames.decode(frames.resize(80, 24))
    assert ch == frames.RESIZE and json.loads(payload) == {"Width": 80, "Height": 24}
    assert frames.close(frames.STDIN) == b"\xff\x00"


@pytest.mark.parametrize("payload,code,failure", [
    (b'{"metadata":{},"status":"Success"}', 0, False),
    (json.dumps({"status": "Failure", "reason": "NonZeroExitCode", "message": "command terminated",
                 "details": {"causes": [{"reason": "ExitCode", "message": "42"}]}}).encode(), 42, True),
    (b'{"status":"Failure","reason":"InternalError","message":"Internal error occurred: exit status 1"}', None, True),
    (b"not json", None, True),
    (b"[1,2]", None, True),
])
def test_exit_status(payload, code, failure):
    st = frames.exit_status(payload)
    assert (st.code, st.failure) == (code, failure)
    assert st.reason


def test_announcement_is_stripped():
    data = b"before\x1b]kws;1234;bash\x07after"
    assert process.parse_announcement(data) == (1234, "bash", b"beforeafter")
    assert process.parse_announcement(b"plain") == (None, None, b"plain")


def test_wrapped_commands_are_argv():
    argv = process.wrapped(["bash", "sh"], None)
    assert argv[:2] == ["sh", "-c"] and argv[-2:] == ["bash", "sh"]
    evil = ["echo", "$(touch /tmp/x); rm -rf /"]
    argv = process.wrapped(None, evil)
    assert argv[-2:] == evil and evil[1] not in argv[2]   # user data only as positional arguments


@pytest.mark.parametrize("data,message", [
    (None, "payload must be an object"),
    ([], "payload must be an object"),
    ({"namespace": "demo", "pod": "p", "cols": 80, "rows": 24}, "'cluster'"),
    ({"cluster": "c", "namespace": "demo", "pod": "p", "cols": 0, "rows": 24}, "'cols'"),
    ({"cluster": "c", "namespace": "demo", "pod": "p", "cols": True, "rows": 24}, "'cols'"),
    ({"cluster": "c", "namespace": "demo", "pod": "p", "cols": 80, "rows": 10 ** 9}, "'rows'"),
    ({"cluster": "c", "namespace": "demo", "pod": "a/b", "cols": 80, "rows": 24}, "'pod'"),
    ({"cluster": "c", "namespace": "demo", "pod": "p", "cols": 80, "rows": 24, "command": "ls"}, "'command'"),
    ({"cluster": "c", "namespace": "demo", "pod": "p", "cols": 80, "rows": 24, "command": [1]}, "'command'"),
])
def test_open_validation(data, message):
    with pytest.raises(BadRequest) as e:
        validate.open_request(data, 1000)
    assert message in e.value.message


def test_input_validation():
    assert validate.input_request({"session": "s", "data": "é"}, 10) == ("s", "é".encode())
    assert validate.input_request({"session": "s", "data": b"\x00"}, 10) == ("s", b"\x00")
    for bad in ({"session": "s"}, {"session": 3, "data": "x"}, {"session": "s", "data": "x" * 11}):
        with pytest.raises(BadRequest):
            validate.input_request(bad, 10)


def _throttle(**kw) -> LoginThrottle:
    from limits.storage import MemoryStorage
    from limits.strategies import MovingWindowRateLimiter
    return LoginThrottle(MovingWindowRateLimiter(MemoryStorage()), **{
        "max_failures": 3, "max_failures_per_user": 5, "lock_seconds": 60, **kw})


def test_throttle_locks_a_name_at_one_address_and_then_everywhere():
    t = _throttle()
    for _ in range(3):
        assert t.retry_after("a", "10.0.0.1") == 0
        t.failed("a", "10.0.0.1")
    assert 55 <= t.retry_after("A", "10.0.0.1") <= 61        # names are matched without case
    assert t.retry_after("a", "10.0.0.2") == 0                # the pair, not yet the name
    assert t.retry_after("b", "10.0.0.1") == 0                # nor the address
    t.failed("a", "10.0.0.2")
    t.failed("a", "10.0.0.3")
    assert t.retry_after("a", "10.0.0.9") > 0                 # five from anywhere: the name waits
    t.succeeded("a", "10.0.0.1")
    assert t.retry_after("a", "10.0.0.1") == 0


def test_origin_check():
    env = {"HTTP_HOST": "console.local:8080", "wsgi.url_scheme": "http",
           "HTTP_X_FORWARDED_HOST": "evil.example"}
    assert origin_allowed("http://console.local:8080", env, [])
    assert origin_allowed(None, env, [])
    assert not origin_allowed("http://evil.example", env, [])
    assert origin_allowed("https://dash.example", env, ["https://dash.example"])


def test_audit_log_lines_cannot_be_forged(caplog):
    from webshell import access
    with caplog.at_level("INFO", logger="webshell.audit"):
        access.audit("file.upload", None, path="evil\naudit login user=admin")
    assert len(caplog.records) == 1
    assert "\n" not in caplog.records[0].getMessage()
