// kube-webshell console: pickers, terminal tabs, and the /terminal Socket.IO protocol (docs/PROTOCOL.md).
(() => {
  'use strict';
  const $ = (id) => document.getElementById(id);
  const STORE = 'kws.sessions';          // per browser tab: the sessions to re-attach after a reload
  const tabs = new Map();                // session id -> Tab
  let active = null;

  const socket = io('/terminal', { transports: ['websocket', 'polling'] });

  async function api(path) {
    const r = await fetch(path, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
    const body = await r.json().catch(() => ({}));
    if (r.status === 401) { window.location = '/login?next=' + encodeURIComponent(location.pathname); }
    if (!r.ok) throw new Error(body.error ? body.error.message : r.statusText);
    return body;
  }
  const enc = encodeURIComponent;

  // ---- persisted sessions --------------------------------------------------
  function stored() {
    try { return JSON.parse(sessionStorage.getItem(STORE) || '[]'); } catch (e) { return []; }
  }
  function persist() {
    const live = [...tabs.values()].filter((t) => t.session && !t.exited)
      .map((t) => ({ session: t.session, label: t.label }));
    sessionStorage.setItem(STORE, JSON.stringify(live));
  }

  // ---- pickers -------------------------------------------------------------
  const pickers = { cluster: $('cluster'), namespace: $('namespace'), pod: $('pod'), container: $('container') };
  let namespaces = [], podList = [];

  function fill(select, values, selected) {
    select.replaceChildren(...values.map((v) => {
      const o = document.createElement('option');
      o.value = v.value; o.textContent = v.label; o.disabled = !!v.disabled;
      if (v.value === selected) o.selected = true;
      return o;
    }));
  }
  function showPickerError(err) { $('picker-error').textContent = err ? String(err.message || err) : ''; }

  async function loadClusters(want) {
    const { clusters } = await api('/api/clusters');
    fill(pickers.cluster, clusters.map((c) => ({ value: c, label: c })), want && want.cluster);
    await loadNamespaces(want);
  }
  let namespacesRequest = 0;
  async function loadNamespaces(want) {
    const mine = ++namespacesRequest;
    showPickerError('');
    let list = [];
    try {
      ({ namespaces: list } = await api(`/api/clusters/${enc(pickers.cluster.value)}/namespaces`));
    } catch (e) { if (mine === namespacesRequest) showPickerError(e); }
    if (mine !== namespacesRequest) return;
    namespaces = list;
    filterNamespaces(want && want.namespace);
    await loadPods(want);
  }
  function filterNamespaces(selected) {
    const f = $('namespace-filter').value.toLowerCase();
    const sel = selected || pickers.namespace.value;
    const list = namespaces.filter((n) => n.toLowerCase().includes(f) || n === selected);
    fill(pickers.namespace, list.map((n) => ({ value: n, label: n })), sel);
  }
  let podsRequest = 0;   // only the answer to the latest request may fill the picker
  async function loadPods(want) {
    const mine = ++podsRequest;
    if (!pickers.namespace.value) { podList = []; filterPods(); return; }
    let list = [];
    try {
      ({ pods: list } = await api(
        `/api/clusters/${enc(pickers.cluster.value)}/namespaces/${enc(pickers.namespace.value)}/pods`));
    } catch (e) { if (mine === podsRequest) showPickerError(e); }
    if (mine !== podsRequest) return;
    podList = list;
    filterPods(want && want.pod, want && want.container);
  }
  function filterPods(selected, container) {
    const f = $('pod-filter').value.toLowerCase();
    const sel = selected || pickers.pod.value;
    const list = podList.filter((p) => p.name.toLowerCase().includes(f) || p.name === selected);
    fill(pickers.pod, list.map((p) => ({ value: p.name, label: `${p.name} (${p.phase})` })), sel);
    fillContainers(container);
  }
  function fillContainers(selected) {
    const pod = podList.find((p) => p.name === pickers.pod.value);
    const cs = pod ? pod.containers : [];
    fill(pickers.container, cs.map((c) => ({ value: c.name, label: `${c.name}${c.ready ? '' : ' (not ready)'}` })),
      selected || (pod && pod.default_container));
  }
  pickers.cluster.addEventListener('change', () => loadNamespaces());
  pickers.namespace.addEventListener('change', () => loadPods());
  pickers.pod.addEventListener('change', () => fillContainers());
  $('namespace-filter').addEventListener('input', () => filterNamespaces());
  $('pod-filter').addEventListener('input', () => filterPods());
  $('open').addEventListener('click', () => {
    if (!pickers.pod.value) { showPickerError('pick a pod first'); return; }
    openTerminal({ cluster: pickers.cluster.value, namespace: pickers.namespace.value,
      pod: pickers.pod.value, container: pickers.container.value || null });
  });

  // ---- tabs ------------------------------------------------------------------
  class Tab {
    constructor(label) {
      this.label = label; this.session = null; this.exited = false;
      this.pane = document.createElement('section');
      this.pane.className = 'pane';
      const host = document.createElement('div');
      host.className = 'xterm-host';
      this.status = document.createElement('div');
      this.status.className = 'status';
      this.status.setAttribute('role', 'status');
      this.pane.append(host, this.status);
      $('terminals').append(this.pane);

      this.head = document.createElement('div');
      this.head.className = 'tab';
      this.head.setAttribute('role', 'tab');
      const name = document.createElement('span');
      name.textContent = label;
      const close = document.createElement('button');
      close.className = 'close'; close.type = 'button'; close.textContent = '×';
      close.title = 'close terminal (ends the shell)';
      close.addEventListener('click', (e) => { e.stopPropagation(); this.close(); });
      this.head.append(name, close);
      this.head.addEventListener('click', () => this.activate());
      $('tabs').append(this.head);

      this.term = new Terminal({ allowProposedApi: true, cursorBlink: true, scrollback: 5000,
        fontFamily: 'Menlo, Consolas, "DejaVu Sans Mono", monospace', fontSize: 14 });
      this.fit = new FitAddon.FitAddon();
      this.search = new SearchAddon.SearchAddon();
      this.term.loadAddon(this.fit);
      this.term.loadAddon(this.search);
      this.term.loadAddon(new WebLinksAddon.WebLinksAddon());
      this.term.loadAddon(new Unicode11Addon.Unicode11Addon());
      this.term.unicode.activeVersion = '11';   // CJK and emoji take two cells
      this.term.open(host);
      this.term.onData((d) => this.send(d));
      this.term.onBinary((d) => this.send(Uint8Array.from(d, (c) => c.charCodeAt(0))));
      this.term.onResize(({ cols, rows }) => {
        if (this.session && !this.exited) socket.emit('resize', { session: this.session, cols, rows });
      });
      this.term.attachCustomKeyEventHandler((e) => this.keys(e));
      this.activate();
    }
    send(data) {
      if (this.session && !this.exited && socket.connected) socket.emit('input', { session: this.session, data });
    }
    keys(e) {
      if (e.type !== 'keydown' || !e.ctrlKey || !e.shiftKey) return true;
      if (e.code === 'KeyC') { navigator.clipboard.writeText(this.term.getSelection()).catch(() => {}); return false; }
      if (e.code === 'KeyV') { navigator.clipboard.readText().then((t) => this.term.paste(t)).catch(() => {}); return false; }
      if (e.code === 'KeyF') { openSearch(); return false; }
      return true;
    }
    setStatus(kind, text) {
      this.status.className = `status ${kind}`;
      this.status.textContent = text;
      this.state = kind;
    }
    activate() {
      for (const t of allTabs) { t.pane.classList.remove('active'); t.head.classList.remove('active'); }
      this.pane.classList.add('active'); this.head.classList.add('active');
      active = this;
      requestAnimationFrame(() => { this.fit.fit(); this.term.focus(); });
    }
    exit(code, reason) {
      this.exited = true;
      this.setStatus('exited', `exited${code === null || code === undefined ? '' : ` with code ${code}`}: ${reason}`);
      persist();
    }
    close() {
      if (this.session && !this.exited) socket.emit('close', { session: this.session });
      this.exited = true;
      tabs.delete(this.session);
      allTabs.delete(this);
      this.term.dispose(); this.pane.remove(); this.head.remove();
      persist();
      const next = [...allTabs].pop();
      if (next) next.activate();
      else if (active === this) active = null;   // the file browser falls back to the pickers
    }
  }
  const allTabs = new Set();

  function newTab(label) {
    const t = new Tab(label);
    allTabs.add(t);
    t.activate();
    t.fit.fit();
    return t;
  }

  // event 'open' (a shell in the container) or 'debug' (a shell in a new debug container beside it)
  function openTerminal(target, event = 'open') {
    const label = `${target.pod}${target.container ? '/' + target.container : ''}`;
    const t = newTab(event === 'debug' ? `${label} (debug)` : label);
    t.target = { ...target };
    t.setStatus('connecting', `connecting to ${target.cluster}/${target.namespace}/${label}…`);
    const req = { ...target, cols: t.term.cols, rows: t.term.rows };
    if (!req.container) delete req.container;
    socket.emit(event, req, (ack) => {
      if (!ack || !ack.ok) {
        t.exit(null, ack && ack.error ? ack.error.message : 'no answer from the server');
        if (ack && ack.error && ack.error.code === 'no_shell' && event === 'open') offerDebug(t, target);
        return;
      }
      t.session = ack.session;
      t.label = `${target.pod}/${ack.container}`;
      t.target.container = ack.container;
      t.head.firstChild.textContent = t.label;
      tabs.set(ack.session, t);
      persist();
      t.setStatus('connected', `connected: ${target.cluster}/${target.namespace}/${t.label} (${ack.shell})`);
      socket.emit('resize', { session: t.session, cols: t.term.cols, rows: t.term.rows });
    });
  }

  // No shell in the image: offer a debug container (kubectl debug --target) that sees its processes.
  function offerDebug(t, target) {
    const btn = document.createElement('button');
    btn.type = 'button'; btn.className = 'debug';
    btn.textContent = 'Debug';
    btn.title = 'add a debug container with a shell that shares this container\'s processes';
    btn.addEventListener('click', () => { t.close(); openTerminal(target, 'debug'); });
    t.status.prepend(btn, ' ');   // first: a long message is cut off at the right
  }

  function attach(t) {
    t.setStatus('connecting', `re-attaching ${t.label}…`);
    socket.emit('attach', { session: t.session }, (ack) => {
      if (!ack || !ack.ok) { t.exit(null, ack && ack.error ? ack.error.message : 'session lost'); return; }
      t.target = { ...ack.target, container: ack.container };
      t.term.reset();
      t.term.write(new Uint8Array(ack.replay));
      t.setStatus('connected', `connected: ${ack.target.cluster}/${ack.target.namespace}/${t.label} (${ack.shell})`);
      socket.emit('resize', { session: t.session, cols: t.term.cols, rows: t.term.rows });
    });
  }

  // ---- socket events -------------------------------------------------------
  socket.on('output', (msg, ack) => {
    const t = tabs.get(msg.session);
    if (!t) { if (ack) ack(); return; }
    // Acknowledge once xterm has processed the data: the server sends no more than its window ahead.
    t.term.write(new Uint8Array(msg.data), () => { if (ack) ack(); });
  });
  socket.on('exit', (msg) => { const t = tabs.get(msg.session); if (t) t.exit(msg.code, msg.reason); });
  socket.on('connect', () => {
    for (const t of tabs.values()) if (!t.exited) attach(t);
    if (!restored) restore();
  });
  socket.on('disconnect', () => {
    for (const t of tabs.values()) if (!t.exited) t.setStatus('reconnecting', 'connection lost, reconnecting…');
  });
  socket.on('connect_error', (err) => {
    for (const t of tabs.values()) if (!t.exited) t.setStatus('reconnecting', `cannot connect: ${err.message}`);
  });

  let restored = false;
  function restore() {
    restored = true;
    for (const s of stored()) {
      const t = newTab(s.label);
      t.session = s.session;
      tabs.set(s.session, t);
      attach(t);
    }
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

  let resizeTimer = null;
  window.addEventListener('resize', () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => { if (active) active.fit.fit(); }, 100);
  });

  // ---- start -----------------------------------------------------------------
  const deepLink = JSON.parse($('terminals').dataset.deepLink || '{}');
  loadClusters(deepLink).then(() => {
    if (!deepLink.pod) return;
    openTerminal(deepLink);
    // The link has done its job: a reload should re-attach this terminal, not open another.
    history.replaceState(null, '', '/');
  }).catch(showPickerError);
  // The container the user is looking at: the active terminal's, else the pickers'.
  function activeTarget() {
    if (active && active.target) return { ...active.target };
    if (!pickers.pod.value) return null;
    return { cluster: pickers.cluster.value, namespace: pickers.namespace.value, pod: pickers.pod.value,
      container: pickers.container.value || null };
  }
  const csrfToken = () => document.querySelector('meta[name=csrf-token]').content;
  // Shared with other front-end modules (files.js) and the devtools console.
  window.kws = { tabs, socket, activeTarget, csrfToken, api };
})();
