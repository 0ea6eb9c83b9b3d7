// kube-webshell console: terminal tabs in the workspace layout, and the /terminal Socket.IO protocol
// (docs/PROTOCOL.md). The sidebar tree (tree.js), settings (settings.js) and files (files.js) build on window.kws.
(() => {
  'use strict';
  const $ = (id) => document.getElementById(id);
  const prefs = window.kwsPrefs;
  const T = (s, vars) => (window.kwsT ? window.kwsT(s, vars) : s.replace(/\{(\w+)\}/g, (m, k) => (vars || {})[k] ?? m));
  const tabs = new Map();                // session id -> Tab
  const allTabs = new Set();
  let active = null;                     // the terminal the user last looked at
  let selected = null;                   // the pod picked in the tree (when no terminal is active)
  let pinned = false;                    // the tree's Files button: show that pod until a terminal is focused

  const socket = io('/terminal', { transports: ['websocket', 'polling'] });

  class ApiError extends Error {
    constructor(message, status, code) { super(message); this.status = status; this.code = code; }
  }
  async function api(path) {
    const r = await fetch(path, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
    const body = await r.json().catch(() => ({}));
    if (r.status === 401) { window.location = '/login?next=' + encodeURIComponent(location.pathname); }
    if (!r.ok) throw new ApiError(body.error ? body.error.message : r.statusText, r.status, body.error && body.error.code);
    return body;
  }

  // ---- settings applied to every terminal (look.js) ----------------------------------
  const { settings, dark, termOptions, DEFAULTS } = window.kwsLook;
  function applySettings() {
    document.documentElement.dataset.theme = dark() ? 'dark' : 'light';
    const o = termOptions();
    for (const t of allTabs) { Object.assign(t.term.options, o); t.refit(); }
  }
  matchMedia('(prefers-color-scheme: light)').addEventListener('change', applySettings);

  // ---- layout and what a reload restores ------------------------------------------
  const layout = new window.KwsLayout(document.querySelector('.layout-root'), () => {
    $('empty').hidden = !layout.empty();
    prefs.tab.set('layout', layout.save());
    persist();
  });
  function persist() {
    const live = [...tabs.values()].filter((t) => t.session && !t.exited)
      .map((t) => ({ session: t.session, label: t.label }));
    prefs.tab.set('sessions', live);
  }

  const { confirmDialog, errorCard } = window.kwsPanes;   // panes.js

  // ---- terminal tabs -----------------------------------------------------------------
  class Tab {
    constructor(label) {
      this.label = label; this.session = null; this.exited = false; this.kind = 'terminal';
      this.pane = document.createElement('section');
      this.pane.className = 'pane terminal-pane';
      this.host = document.createElement('div');
      this.host.className = 'xterm-host';
      this.status = document.createElement('div');
      this.status.className = 'status';
      this.status.setAttribute('role', 'status');
      this.statusText = document.createElement('span');
      this.reopenBtn = document.createElement('button');
      this.reopenBtn.type = 'button'; this.reopenBtn.className = 'reopen'; this.reopenBtn.hidden = true;
      this.reopenBtn.textContent = T('Reopen');
      this.reopenBtn.addEventListener('click', () => this.reopen());
      this.status.append(this.statusText, this.reopenBtn);
      this.pane.append(this.host, this.status);

      this.head = document.createElement('div');
      this.head.className = 'tab';
      this.head.setAttribute('role', 'tab');
      this.name = document.createElement('span');
      this.name.textContent = label;
      const close = document.createElement('button');
      close.className = 'close'; close.type = 'button'; close.textContent = '×';
      close.title = T('close terminal (ends the shell)');
      close.addEventListener('click', (e) => { e.stopPropagation(); this.requestClose(); });
      this.head.append(this.name, close);
      this.head.addEventListener('click', () => this.activate());

      this.term = new Terminal({ allowProposedApi: true, cursorBlink: true, ...termOptions() });
      this.fit = new FitAddon.FitAddon();
      this.search = new SearchAddon.SearchAddon();
      this.term.loadAddon(this.fit);
      this.term.loadAddon(this.search);
      this.term.loadAddon(new WebLinksAddon.WebLinksAddon());
      this.term.loadAddon(new Unicode11Addon.Unicode11Addon());
      this.term.unicode.activeVersion = '11';   // CJK and emoji take two cells
      this.term.open(this.host);
      this.term.onData((d) => this.send(d));
      this.term.onBinary((d) => this.send(Uint8Array.from(d, (c) => c.charCodeAt(0))));
      this.term.onResize(({ cols, rows }) => {
        if (this.session && !this.exited && !this.elsewhere) socket.emit('resize', { session: this.session, cols, rows });
      });
      this.term.attachCustomKeyEventHandler((e) => this.keys(e));
      this.term.textarea.addEventListener('focus', () => this.activate(true));
      // Whatever changes the pane's box (a split, a gutter, Files opening beside it, the window): refit.
      new ResizeObserver(() => this.refit()).observe(this.host);
      allTabs.add(this);
    }
    get key() { return this.session ? `t:${this.session}` : null; }
    refit() {
      if (this.fitQueued) return;
      this.fitQueued = true;
      requestAnimationFrame(() => {
        this.fitQueued = false;
        if (this.host.offsetWidth > 0 && this.host.offsetHeight > 0) this.fit.fit();
      });
    }
    send(data) {
      if (this.session && !this.exited && !this.elsewhere && socket.connected) socket.emit('input', { session: this.session, data });
    }
    keys(e) {
      if (e.type !== 'keydown' || !e.ctrlKey || !e.shiftKey) return true;
      if (e.code === 'KeyC') {
        navigator.clipboard.writeText(this.term.getSelection()).catch(() => {});
        e.preventDefault();
        return false;
      }
      // Ctrl+Shift+V: the browser's own paste event delivers the text to xterm, once. Reading the
      // clipboard here as well pasted everything twice.
      if (e.code === 'KeyV') return false;
      if (e.code === 'KeyF') { openSearch(); e.preventDefault(); return false; }
      return true;
    }
    setStatus(kind, text) {
      this.status.className = `status ${kind}`;
      this.statusText.textContent = text;
      this.state = kind;
      this.reopenBtn.hidden = !(kind === 'exited' && this.target);
    }
    onShow() { this.refit(); }
    activate(fromFocus) {
      for (const t of allTabs) { t.pane.classList.remove('active'); t.head.classList.remove('active'); }
      this.pane.classList.add('active'); this.head.classList.add('active');
      active = this;
      pinned = false;
      if (this.group) { this.group.show(this); layout.current = this.group; }
      if (!fromFocus) requestAnimationFrame(() => { this.refit(); this.term.focus(); });
    }
    exit(code, reason) {
      this.exited = true;
      const how = code === null || code === undefined ? '' : ` ${T('with code {code}', { code })}`;
      this.setStatus('exited', `${T('ended')}${how}: ${reason}`);
      persist();
    }
    // The reason a terminal could not start, in the pane where the user looks, with the next step.
    showError(parts) {
      this.clearError();
      this.error = errorCard(parts, T('Try again'), () => this.reopen());
      this.pane.insertBefore(this.error, this.host);
    }
    clearError() { if (this.error) { this.error.remove(); this.error = null; } }
    async requestClose() {
      if (this.session && !this.exited && !this.elsewhere) {
        const ok = await confirmDialog(T('End the shell in {label}? Whatever runs in it stops.', { label: this.label }),
          T('End shell'));
        if (!ok) return;
      }
      this.close();
    }
    close() {
      // A session another tab took over keeps running there: closing this tab only forgets it.
      if (this.session && !this.exited && !this.elsewhere) socket.emit('close', { session: this.session });
      this.exited = true;
      tabs.delete(this.session);
      allTabs.delete(this);
      this.term.dispose();
      layout.remove(this);
      persist();
      if (active === this) {
        active = null;
        const next = [...allTabs].pop();
        if (next) next.activate();   // else the file browser follows the tree's selection
      }
      refreshSessions();
    }
    reopen() {
      if (!this.target) return;
      tabs.delete(this.session);
      this.session = null; this.exited = false;
      this.clearError();
      this.term.reset();
      openSession(this, this.target);
    }
  }

  function newTab(label, where) {
    const t = new Tab(label);
    if (where && where.split) layout.split(t, where.split, where.beside); else layout.add(t);
    t.activate();
    return t;
  }

  // event 'open' (a shell in the container) or 'debug' (a shell in a new debug container beside it)
  function openTerminal(target, where, event = 'open') {
    const label = `${target.pod}${target.container ? '/' + target.container : ''}`;
    const t = newTab(event === 'debug' ? T('{label} (debug)', { label }) : label, where);
    openSession(t, target, event);
    return t;
  }
  function openSession(t, target, event = 'open') {
    t.target = { ...target };
    t.setStatus('connecting', T('connecting to {where}…', { where: `${target.cluster}/${target.namespace}/${t.label}` }));
    t.fit.fit();
    const req = { ...target, cols: t.term.cols, rows: t.term.rows };
    if (!req.container) delete req.container;
    socket.emit(event, req, (ack) => {
      if (!ack || !ack.ok) {
        const err = (ack && ack.error) || { code: 'cluster_unavailable', message: T('no answer from the server') };
        t.exit(null, window.kws.explain(err, target));
        t.showError(window.kws.explainParts(err, target));
        if (err.code === 'no_shell' && event === 'open') offerDebug(t, target);
        return;
      }
      t.session = ack.session;
      t.label = `${target.pod}/${ack.container}`;
      t.target.container = ack.container;
      t.name.textContent = t.label;
      tabs.set(ack.session, t);
      layout.changed();
      t.setStatus('connected', `${T('connected')}: ${target.cluster}/${target.namespace}/${t.label} (${ack.shell})`);
      socket.emit('resize', { session: t.session, cols: t.term.cols, rows: t.term.rows });
      refreshSessions();
    });
  }

  // No shell in the image: offer a debug container (kubectl debug --target) that sees its processes.
  function offerDebug(t, target) {
    const btn = document.createElement('button');
    btn.type = 'button'; btn.className = 'debug';
    btn.textContent = T('Debug');
    btn.title = T('add a debug container with a shell that shares this container\'s processes');
    btn.addEventListener('click', () => { t.close(); openTerminal(target, undefined, 'debug'); });
    t.status.prepend(btn, ' ');   // first: a long message is cut off at the right
  }

  function attach(t) {
    t.setStatus('connecting', T('re-attaching {label}…', { label: t.label }));
    socket.emit('attach', { session: t.session }, (ack) => {
      // Another replica holds it (docs/PROTOCOL.md): it may be lost and about to be reaped, so ask again.
      if (ack && !ack.ok && ack.error.code === 'wrong_replica' && (t.wrongReplica = (t.wrongReplica || 0) + 1) <= 10) {
        t.setStatus('reconnecting', ack.error.message);
        setTimeout(() => { if (socket.connected && !t.exited) attach(t); }, 1000 * ack.error.retry);
        return;
      }
      t.wrongReplica = 0;
      if (!ack || !ack.ok) { t.exit(null, ack && ack.error ? ack.error.message : T('session lost')); return; }
      t.elsewhere = false;   // shown here again (after "opened in another tab")
      t.clearError();
      t.target = { ...ack.target, container: ack.container };
      t.label = `${ack.target.pod}/${ack.container}`;
      t.name.textContent = t.label;
      t.term.reset();
      t.term.write(new Uint8Array(ack.replay));
      t.setStatus('connected', `${T('connected')}: ${ack.target.cluster}/${ack.target.namespace}/${t.label} (${ack.shell})`);
      t.refit();
      socket.emit('resize', { session: t.session, cols: t.term.cols, rows: t.term.rows });
      refreshSessions();
    });
  }
  function attachSession(id, label) {
    if (tabs.has(id)) { tabs.get(id).activate(); return; }
    const t = newTab(label);
    t.session = id;
    tabs.set(id, t);
    layout.changed();
    attach(t);
  }

  const refreshSessions = () => { if (window.kws && window.kws.sessions) window.kws.sessions.refresh(); };   // sessions.js

  // ---- socket events -------------------------------------------------------
  socket.on('output', (msg, ack) => {
    const t = tabs.get(msg.session);
    if (!t) { if (ack) ack(); return; }
    // Acknowledge once xterm has processed the data: the server sends no more than its window ahead.
    t.term.write(new Uint8Array(msg.data), () => { if (ack) ack(); });
  });
  socket.on('exit', (msg) => { const t = tabs.get(msg.session); if (t) t.exit(msg.code, msg.reason); });
  socket.on('connect', () => {
    for (const t of tabs.values()) if (!t.exited && !t.elsewhere) attach(t);   // never take a session back unasked
    refreshSessions();
  });
  socket.on('disconnect', () => {
    for (const t of tabs.values()) if (!t.exited && !t.elsewhere) t.setStatus('reconnecting', T('connection lost, reconnecting…'));
  });
  socket.on('connect_error', (err) => {
    for (const t of tabs.values()) if (!t.exited) t.setStatus('reconnecting', `${T('cannot connect')}: ${err.message}`);
  });

  // Rebuild this browser tab's layout and terminals after a reload; they attach once the socket connects.
  function restore() {
    const known = new Map(prefs.tab.get('sessions', []).map((s) => [`t:${s.session}`, s]));
    const make = (key) => {
      const s = known.get(key);
      if (!s) return null;
      known.delete(key);
      const t = new Tab(s.label);
      t.session = s.session;
      tabs.set(s.session, t);
      return t;
    };
    layout.restore(prefs.tab.get('layout', null), make);
    for (const key of [...known.keys()]) { const t = make(key); if (t) layout.add(t); }
    const first = [...allTabs][0];
    if (first) first.activate();
    for (const t of allTabs) t.setStatus('connecting', T('re-attaching {label}…', { label: t.label }));
  }

  // ---- search --------------------------------------------------------------
  function openSearch() { $('search').hidden = false; $('search-input').focus(); }
  $('search-input').addEventListener('keydown', (e) => {
    if (!active) return;
    if (e.key === 'Escape') { $('search').hidden = true; active.term.focus(); }
    if (e.key === 'Enter') {
      const q = e.target.value;
      if (e.shiftKey) active.search.findPrevious(q); else active.search.findNext(q);
    }
  });

  // ---- start -----------------------------------------------------------------
  applySettings();
  restore();
  const deepLink = JSON.parse($('terminals').dataset.deepLink || '{}');
  if (deepLink.pod) {
    openTerminal(deepLink);
    // The link has done its job: a reload should re-attach this terminal, not open another.
    history.replaceState(null, '', '/');
  }
  // The container the user is looking at: the active terminal's, else the tree's selection.
  function activeTarget() {
    if (selected && (pinned || !(active && active.target))) return { ...selected };
    return active && active.target ? { ...active.target } : null;
  }
  const csrfToken = () => document.querySelector('meta[name=csrf-token]').content;
  // Shared with the other front-end modules (tree.js, files.js, settings.js) and the devtools console.
  window.kws = {
    tabs, allTabs, socket, layout, api, ApiError, csrfToken, activeTarget, openTerminal, attachSession, attach,
    confirmDialog, applySettings, settings, DEFAULTS, T,
    get active() { return active; },
    select(target, pin) { selected = target ? { ...target } : null; pinned = !!pin; },
    explain: (err) => err.message,   // tree.js replaces this with messages that name the next step
  };
})();
