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
        name.className = 'name';
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

  kws.sessions = { refresh };
  kws.socket.on('connect', refresh);
  refresh();
})();
