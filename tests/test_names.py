"""Names everywhere: audit rows, the server's log and the admin pages show user names, ids only beside them."""
from __future__ import annotations

import re

from .helpers import Term, login
from .test_access import PW, add_user, admin_events, cli
from .test_throttle import _try


def test_logs_audit_rows_and_the_audit_page_name_the_user(make_server):
    srv = make_server()
    add_user(srv, "alice", ["--namespaces", "team-a", "--exec"])
    alice = login(srv, "alice", PW)
    t = Term(srv, alice)
    try:
        session = t.open("shell-a", "team-a")
        t.send(session, "exit\n")
        t.wait_exit(session)
    finally:
        t.close()
    assert _try(srv, "1", "wrong").status_code == 401   # typed name "1": not user id 1 (admin) in the audit

    token = cli(srv, "create-token", "admin").strip()
    events = admin_events(srv, token)
    mine = [e for e in events if e["event"] in ("terminal.open", "terminal.close")]
    assert len(mine) == 2 and {e["user"] for e in mine} == {"alice"}
    alice_id = mine[0]["user_id"]
    assert isinstance(alice_id, int) and alice_id != 1
    failed = next(e for e in events if e["event"] == "login.failed")
    assert failed["user"] == "1" and failed["user_id"] is None

    log = srv.log()
    opened = re.search(rf"session {session} opened: user='?alice'? \(id '?{alice_id}'?\)", log)
    closed = re.search(rf"session {session} closed: user='?alice'? \(id '?{alice_id}'?\)", log)
    assert opened and closed, log[-3000:]

    page = login(srv).get(f"{srv.url}/admin/audit", params={"user": "alice"}).text
    cells = re.findall(r'<td class="data user">([^<]*)<small class="uid">#(\d+)</small>', page)
    assert cells and all(name.strip() == "alice" and int(uid) == alice_id for name, uid in cells)
