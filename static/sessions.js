// kube-webshell "Your sessions": this user's live sessions that this page does not show, to re-attach
// from a new tab or window (the server's `list` event, docs/PROTOCOL.md).
(() => {
  'use strict';
  const kws = window.kws, T = kws.T;
  const $ = (id) => document.getElementById(id);
  // ---- "Your sessions": live sessions of this user that this page does not show ------
  function refresh() {
    if (!kws.socket.connected) return;
    kws.socket.emit('list', {}, (ack) => {
      if (!ack || !ack.ok) return;
      const others = ack.sessions.filter((s) => !kws.tabs.has(s.session));
      const box = $('your-sessions');
      box.hidden = !others.length;
      box.querySelector('ul').replaceChildren(...others.map((s) => {
        const li = document.createElement('li');
        li.dataset.session = s.session;
        const name = document.createElement('span');
        name.className = 'name data';   // pod/container names are data, not interface text
        name.textContent = `${s.pod}/${s.container}`;
        name.title = `${s.cluster}/${s.namespace}/${s.pod}/${s.container} (${s.shell})`;
        const state = document.createElement('span');
        state.className = 'meta';
        state.textContent = s.attached ? T('open elsewhere') : T('detached');
        const b = document.createElement('button');
        b.type = 'button'; b.className = 'attach'; b.textContent = T('Attach');
        b.title = T('show this shell here (another window showing it stops receiving its output)');
        b.addEventListener('click', () => kws.attachSession(s.session, `${s.pod}/${s.container}`));
        li.append(name, state, b);
        return li;
      }));
    });
  }
  setInterval(refresh, 5000);

  // ---- a terminal that stopped here, said in words in its pane -------------------------
  const { errorCard } = window.kwsPanes;
  function notice(t, parts, buttonText, action) {
    t.clearError();
    t.error = errorCard(parts, buttonText, action);
    t.error.classList.add('pane-notice');
    t.pane.insertBefore(t.error, t.host);
  }
  // Another tab or window attached this session (docs/PROTOCOL.md, `detached`): it runs there now.
  kws.socket.on('detached', (msg) => {
    const t = kws.tabs.get(msg.session);
    if (!t || t.exited) return;
    t.elsewhere = true;
    t.setStatus('elsewhere', T('This terminal was opened in another tab.'));
    notice(t, { what: T('This terminal was opened in another tab'),
      next: T('It keeps running there, and this tab no longer shows it. Show it here to take it back.') },
    T('Show it here'), () => kws.attach(t));
    refresh();
  });
  // An admin ended it: who, and the reason they gave.
  kws.socket.on('exit', (msg) => {
    const t = kws.tabs.get(msg.session);
    if (!t || !msg.terminated) return;
    const by = msg.terminated.by;
    notice(t, { what: T('An admin ({by}) ended this terminal', { by }),
      next: msg.terminated.reason ? T('Reason: {reason}', { reason: msg.terminated.reason }) : T('No reason was given.') },
    t.target ? T('Reopen') : '', t.target ? () => t.reopen() : null);
  });

  kws.sessions = { refresh };
  kws.socket.on('connect', refresh);
  refresh();
})();
