// Sharing a terminal (docs/PROTOCOL.md "Sharing a session"): the owner invites users by name to watch
// or join, sees who is connected ("being watched by …", admins included) and revokes guests.
(() => {
  'use strict';
  const kws = window.kws;
  if (!kws || !kws.socket) return;
  const { socket, T } = kws;
  const el = (tag, cls, text) => { const e = document.createElement(tag); if (cls) e.className = cls; if (text) e.textContent = text; return e; };
  const modeName = (m) => ({ watch: T('watching'), join: T('typing too'), admin: T('admin') }[m] || m);

  function panel(tab) {
    if (tab.sharePanel) return tab.sharePanel;
    const p = tab.sharePanel = el('div', 'share-panel');
    p.hidden = true;
    const notice = p.notice = el('div', 'viewers-notice');
    notice.setAttribute('role', 'status');
    notice.hidden = true;
    const form = p.form = el('form', 'share-form');
    form.hidden = true;
    const user = el('input'); user.name = 'user'; user.required = true; user.maxLength = 80;
    user.placeholder = T('user name'); user.setAttribute('aria-label', T('user name'));
    const mode = el('select'); mode.name = 'mode';
    for (const m of ['watch', 'join']) { const o = el('option', '', m === 'watch' ? T('may watch') : T('may type too')); o.value = m; mode.append(o); }
    const invite = el('button', '', T('Invite')); invite.type = 'submit';
    const list = p.list = el('ul', 'share-list');
    const error = p.error = el('span', 'share-error'); error.setAttribute('role', 'alert');
    form.append(user, mode, invite, error, list);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      socket.emit('share', { session: tab.session, user: user.value.trim(), mode: mode.value }, (ack) => {
        if (!ack || !ack.ok) { error.textContent = (ack && ack.error && ack.error.message) || T('no answer from the server'); return; }
        error.textContent = ''; user.value = ''; render(tab, ack);
      });
    });
    p.append(notice, form);
    tab.pane.insertBefore(p, tab.status);
    const btn = tab.shareBtn = el('button', 'share-btn', T('Share'));
    btn.type = 'button';
    btn.title = T('Let another user watch this terminal, or type in it too');
    btn.addEventListener('click', () => {
      form.hidden = !form.hidden; p.hidden = form.hidden && notice.hidden;
      if (!form.hidden) { socket.emit('shares', { session: tab.session }, (ack) => { if (ack && ack.ok) render(tab, ack); }); user.focus(); }
      tab.refit();
    });
    tab.status.append(' ', btn);
    return p;
  }

  function render(tab, state) {
    const p = panel(tab);
    const viewers = state.viewers || [];
    p.notice.hidden = viewers.length === 0;
    p.notice.textContent = viewers.length
      ? T('Being watched by {names}', { names: viewers.map((v) => `${v.user} (${modeName(v.mode)})`).join(', ') }) : '';
    p.list.replaceChildren(...(state.invited || []).map((inv) => {
      const li = el('li', '', `${inv.user}: ${inv.mode === 'join' ? T('may type too') : T('may watch')} `);
      li.dataset.user = inv.user;
      const revoke = el('button', '', T('Revoke')); revoke.type = 'button';
      revoke.addEventListener('click', () => socket.emit('unshare', { session: tab.session, user: inv.user },
        (ack) => { if (ack && ack.ok) render(tab, ack); }));
      li.append(revoke);
      return li;
    }));
    p.hidden = p.form.hidden && p.notice.hidden;
    tab.refit();
  }

  socket.on('viewers', (msg) => { const t = kws.tabs.get(msg.session); if (t) render(t, msg); });
  // A terminal's first output says it has a session: give it its Share button.
  socket.on('output', (msg) => { const t = kws.tabs.get(msg.session); if (t && !t.sharePanel) panel(t); });
})();
