"""Fast tests of the transfer helpers with no cluster: parsers, classification, names, limits."""
from __future__ import annotations

import io
import stat

import pytest
from werkzeug.sansio.multipart import Data, Epilogue, Field, File, MultipartEncoder, Preamble
from werkzeug.datastructures import Headers

from webshell.errors import BadRequest, Forbidden, LimitReached, MissingTool, NotFound, StorageError, TransferFailed
from webshell.files.limits import Slots, TooLarge
from webshell.files.multipart import parts
from webshell.files.views import content_disposition
from webshell.kube.download import archive_entry
from webshell.kube.listing import parse
from webshell.kube.remote import classify
from webshell.kube.transfer import check_relative, temp_name


@pytest.mark.parametrize("stdout, stderr, reason, started, cls, text", [
    ("kws:missing tar\n", "", "exit status 127", True, MissingTool, "no 'tar'"),
    ("", "head: error writing 'standard output': No space left on device", "", True, StorageError, "no space"),
    ("", "sh: 1: cannot create /ro/.x.part: Read-only file system", "", True, StorageError, "read-only"),
    ("", "sh: 1: cannot create /etc/.x.part: Permission denied", "", True, Forbidden, "permission denied"),
    ("kws:error /x: No such file or directory\n", "", "", True, NotFound, "no such file"),
    ("", "sh: 1: cannot create /a/b/.x: Directory nonexistent", "", True, NotFound, "no such directory"),
    ("", "", "cmd start: sh -c ...: fork/exec /shims/sh: no such file or directory", False, MissingTool, "no 'sh'"),
    ("", "", 'exec: "sh": executable file not found in $PATH', False, MissingTool, "no 'sh'"),
    ("", "something odd", "exit status 3", True, TransferFailed, "something odd"),
])
def test_classify_maps_messages_to_errors(stdout, stderr, reason, started, cls, text):
    err = classify(stdout, stderr, reason, "upload to", "/x", started)
    assert type(err) is cls and text in err.message
    if cls is MissingTool:
        assert err.tool in ("tar", "sh")


def _record(mode: int, size: int, mtime: int, name: bytes, owner: bytes = b"nobody", group: bytes = b"nogroup") -> bytes:
    return b"/%x/%d/%d/65534/65534/%s:%s:./%s\n" % (mode, size, mtime, owner, group, name)


def test_listing_parser_keeps_hostile_names_intact():
    names = [b"plain", b"new\nline", b"kws:list", b"\xe4\xb8\xad", b"-dash", b"quo\"te", b"\x1b[31mred",
             b"trailing\n", b"a:b:c", b"\n"]
    body = b"".join(_record(stat.S_IFREG | 0o644, i, 1700000000 + i, n) for i, n in enumerate(names))
    body += _record(stat.S_IFDIR | 0o755, 4096, 1, b"sub dir") + _record(stat.S_IFLNK | 0o777, 3, 1, b"ln")
    out = b"/the/dir\n\0" + body + b"\0./ln\0target\nwith newline\n\0"
    path, entries, truncated = parse(out, 100)
    assert path == "/the/dir" and truncated is False
    by = {e.name: e for e in entries}
    assert entries[0].name == "sub dir" and entries[0].type == "dir"
    assert set(by) == {n.decode() for n in names} | {"sub dir", "ln"}
    assert by["new\nline"].size == 1 and by["new\nline"].mode == "-rw-r--r--"
    assert by["ln"].type == "link" and by["ln"].link_target == "target\nwith newline"
    assert parse(out, 2)[2] is True and len(parse(out, 2)[1]) == 2
    assert by["a:b:c"].owner == "nobody" and by["a:b:c"].group == "nogroup" and by["trailing\n"].size == 7


def test_listing_parser_reports_owners_even_odd_ones():
    body = (_record(stat.S_IFREG | 0o600, 1, 1, b"a", b"we/ird", b"gr p") + _record(stat.S_IFREG | 0o600, 1, 1, b"b", b"UNKNOWN", b"UNKNOWN"))
    entries = parse(b"/d\n\0" + body + b"\0", 10)[1]
    assert [(e.name, e.owner, e.group) for e in entries] == [("a", "we/ird", "gr p"), ("b", "65534", "65534")]


@pytest.mark.parametrize("garbage", [b"/x\n\0/zz/1/1/0/0/r:r:./a\n\0", b"/x\n\0/1/1/1/0/0/r:r:X/a\n\0",
                                     b"/x\n\0/1/1/1/./a\n\0", b"/x\n\0/1/1/1/u/0/r:r:./a\n\0",
                                     b"/x\n\0/1/1/1/0/0/r:r:./a\0", b"no sections"])
def test_listing_parser_refuses_garbage(garbage):
    with pytest.raises(TransferFailed):
        parse(garbage, 10)


@pytest.mark.parametrize("rel", ["../x", "a/../../x", "/abs", "", "a//b", "./a", "a/.", "nul\0"])
def test_relative_paths_cannot_leave_the_destination(rel):
    with pytest.raises(BadRequest):
        check_relative(rel)


def test_relative_paths_keep_odd_names():
    for rel in ["a/b c", "-x/y", "中/文", "back\\slash", "$(x)/;y", "a\nb"]:
        assert check_relative(rel) == rel


def test_temp_name_stays_in_the_destination_directory():
    assert temp_name("/d/sub/file.bin").startswith("/d/sub/.file.bin.kws-")
    assert temp_name("-dash").startswith(".-dash.kws-") and temp_name("x").endswith(".part")


def test_content_disposition_has_ascii_fallback_and_exact_utf8_name():
    cd = content_disposition('中文 "q";\n\\x.txt')
    assert cd.startswith('attachment; filename="') and "\n" not in cd
    assert "filename*=UTF-8''%E4%B8%AD%E6%96%87%20%22q%22%3B%0A%5Cx.txt" in cd
    fallback = cd.split('filename="')[1].split('"')[0]
    assert all(32 <= ord(c) < 127 for c in fallback) and '"' not in fallback


@pytest.mark.parametrize("path, want", [("/a/b", ("/a", "./b")), ("b/", (".", "./b")), ("/", ("/", ".")),
                                        (".", (".", ".")), ("-x", (".", "./-x")), ("a/..", ("a/..", "."))])
def test_archive_entry(path, want):
    assert archive_entry(path) == want


def _multipart(files: list[tuple[str, bytes]], boundary: bytes = b"xYzZY") -> bytes:
    enc = MultipartEncoder(boundary)
    out = enc.send_event(Preamble(data=b""))
    out += enc.send_event(Field(name="note", headers=Headers()))
    out += enc.send_event(Data(data=b"ignored", more_data=False))
    for name, data in files:
        out += enc.send_event(File(name="file", filename=name, headers=Headers()))
        out += enc.send_event(Data(data=data, more_data=False))
    return out + enc.send_event(Epilogue(data=b""))


def test_multipart_parts_are_spooled_and_names_percent_decoded(tmp_path):
    body = _multipart([("dir/a%22b%0A.txt", b"x" * 300_000), ("%E4%B8%AD", b"")])
    got = [(p.relpath, p.size, p.body.read()) for p in parts(io.BytesIO(body), b"xYzZY", 4096, 10**6, 10,
                                                             str(tmp_path))]
    assert got == [('dir/a"b\n.txt', 300_000, b"x" * 300_000), ("中", 0, b"")]


def test_multipart_limits():
    with pytest.raises(TooLarge):
        list(parts(io.BytesIO(_multipart([("a", b"x" * 100)])), b"xYzZY", 16, 99, 10, None))
    with pytest.raises(BadRequest):
        list(parts(io.BytesIO(_multipart([("../a", b"x")])), b"xYzZY", 16, 99, 10, None))
    with pytest.raises(BadRequest):
        list(parts(io.BytesIO(_multipart([("a", b"x")])[:-20]), b"xYzZY", 16, 99, 10, None))


def test_transfer_slots_refuse_beyond_the_limit():
    slots = Slots(2)
    a, b = slots.take(), slots.take()
    with pytest.raises(LimitReached):
        slots.take()
    a.release()
    a.release()                 # idempotent
    assert slots.used == 1
    slots.take()
    b.release()
    assert slots.used == 1
