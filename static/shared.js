// A terminal shared with you (docs/PROTOCOL.md "Sharing a session"): join it, see its output, and type
// into it when the owner let you; or, without a session id, the list of terminals shared with you.
(function () {
  'use strict';
  const T = (s, vars) => (window.kwsT ? window.kwsT(s, vars) : s.replace(/\{(\w+)\}/g, (m, k) => (vars || {})[k] ?? m));
  const status = document.getElementById('shared-status');
  const setStatus = (text, cls) => { status.textContent = text; status.className = 'status ' + cls; };
  const bytes = (d) => (d instanceof ArrayBuffer ? new Uint8Array(d) : typeof d === 'string' ? d : new Uint8Array(d));
  const socket = io('/terminal', { transports: ['websocket'] });
  const host = document.getElementById('shared');

  if (!host) {      // the list
    socket.on('connect', () => socket.emit('shared', {}, (ack) => {
      const list = document.getElementById('shared-list');
      const sessions = (ack && ack.ok && ack.sessions) || [];
      list.replaceChildren(...sessions.map((s) => {
        const li = document.createElement('li');
        const a = document.createElement('a');
        a.href = '/shared/' + encodeURIComponent(s.session);
        a.className = 'data';
        a.textContent = `${s.owner}@${s.cluster}/${s.namespace}/${s.pod}/${s.container}`;
        li.append(a, ' ', s.mode === 'join' ? T('you may type too') : T('you may watch'));
        return li;
      }));
      document.getElementById('shared-none').hidden = sessions.length > 0;
      setStatus(T('connected'), '');
    }));
    return;
  }

  const sessionId = host.dataset.session;
  const term = new Terminal({ disableStdin: true, cursorBlink: false, scrollback: 5000 });
  term.open(host);
  let mode = null;
  term.onData((data) => { if (mode === 'join' && socket.connected) socket.emit('input', { session: sessionId, data }); });
  socket.on('connect', () => {
    socket.emit('join', { session: sessionId }, (ack) => {
      if (!ack || !ack.ok) { setStatus((ack && ack.error && ack.error.message) || T('cannot connect'), 'exited'); return; }
      const m = ack.meta || {};
      mode = ack.mode;
      document.getElementById('shared-title').textContent = `${m.user}@${m.cluster}/${m.namespace}/${m.pod}/${m.container}`;
      document.getElementById('shared-mode').textContent = mode === 'join' ? T('you may type too') : T('you may watch');
      term.options.disableStdin = mode !== 'join';
      if (m.cols && m.rows) term.resize(m.cols, m.rows);
      term.write(bytes(ack.replay));
      setStatus(T('connected'), '');
      if (mode === 'join') term.focus();
    });
  });
  socket.on('output', (msg) => { if (msg.session === sessionId) term.write(bytes(msg.data)); });
  socket.on('watch_resize', (msg) => { if (msg.session === sessionId) term.resize(msg.cols, msg.rows); });
  socket.on('exit', (msg) => {
    if (msg.session !== sessionId) return;
    mode = null; term.options.disableStdin = true;
    setStatus(T('ended') + ': ' + msg.reason, 'exited');
  });
  socket.on('disconnect', () => setStatus(T('connection lost'), 'exited'));
  window.kwsShared = { term, socket };
})();
