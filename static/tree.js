// kube-webshell sidebar: clusters → namespaces → pods → containers, a search across namespaces,
// the user's rights per namespace (actions they lack are disabled, with the reason), and the
// resizable sidebar itself. Everything from the cluster is shown with textContent, never as HTML.
(() => {
  'use strict';
  const kws = window.kws, prefs = window.kwsPrefs, T = kws.T;
  const $ = (id) => document.getElementById(id);
  const enc = encodeURIComponent;
  const el = (tag, cls, text) => {
    const n = document.createElement(tag);
    if (cls) n.className = cls;
    if (text !== undefined) n.textContent = text;
    return n;
  };
  const rights = new Map();   // cluster -> {namespace: {exec, upload, download, logs}}
  const state = prefs.get('tree', { open: [] });   // keys of expanded nodes: "c", "c/ns", "c/ns/pod"
  const isOpen = (key) => state.open.includes(key);
  function setOpen(key, on) {
    state.open = state.open.filter((k) => k !== key);
    if (on) state.open.push(key);
    if (state.open.length > 200) state.open = state.open.slice(-200);
    prefs.set('tree', state);
  }

  // ---- how things look -------------------------------------------------------------
  function age(iso) {
    if (!iso) return '';
    const s = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
    if (s < 120) return `${Math.floor(s)}s`;
    if (s < 7200) return `${Math.floor(s / 60)}m`;
    if (s < 172800) return `${Math.floor(s / 3600)}h`;
    return `${Math.floor(s / 86400)}d`;
  }
  const BAD = /CrashLoopBackOff|Error|ErrImagePull|ImagePullBackOff|OOMKilled|CreateContainerConfigError|Invalid/;
  function podStatus(p) {
    const reasons = p.containers.map((c) => c.reason).filter(Boolean);
    const ready = p.containers.filter((c) => c.ready).length;
    if (p.deleting) return { cls: 'st-del', text: T('Terminating') };
    const bad = reasons.find((r) => BAD.test(r));
    if (bad || p.phase === 'Failed') return { cls: 'st-bad', text: bad || p.phase };
    if (p.phase === 'Succeeded') return { cls: 'st-done', text: p.phase };
    if (p.phase === 'Running' && ready === p.containers.length) return { cls: 'st-ok', text: p.phase };
    return { cls: 'st-warn', text: reasons[0] || p.phase || 'Unknown' };
  }
  function may(cluster, namespace, right) {
    const r = (rights.get(cluster) || {})[namespace];
    return !r || r[right] !== false;   // unknown rights: let the server decide
  }
  const RIGHT_WORD = { exec: T('open terminals'), upload: T('upload files'), download: T('download files'), logs: T('read logs') };
  function denied(namespace, right) {
    return T('You may not {what} in namespace {ns}: ask an admin for the "{right}" right.',
      { what: RIGHT_WORD[right], ns: namespace, right });
  }
  function action(text, title, cls, enabled, reason, run) {
    const b = el('button', `act ${cls}`, text);
    b.type = 'button';
    b.title = enabled ? title : reason;
    b.disabled = !enabled;
    b.setAttribute('aria-label', title);
    b.addEventListener('click', (e) => { e.stopPropagation(); run(); });
    return b;
  }
  function actions(target) {
    const { cluster, namespace } = target;
    const exec = may(cluster, namespace, 'exec'), logs = may(cluster, namespace, 'logs');
    const files = may(cluster, namespace, 'upload') || may(cluster, namespace, 'download');
    const box = el('span', 'acts');
    box.append(
      action('>_', T('Open a terminal'), 'open-term', exec, denied(namespace, 'exec'), () => kws.openTerminal(target)),
      action('≣', T('Show logs'), 'open-logs', logs, denied(namespace, 'logs'), () => kws.logs && kws.logs.open(target)),
      action('🗀', T('Browse files'), 'open-files', files, denied(namespace, 'download'), () => {
        kws.select(target);
        if (kws.files) kws.files.show(target);
      }));
    return box;
  }

  // ---- nodes -----------------------------------------------------------------------
  function node(cls, key, label, load) {
    const li = el('li', `node ${cls}`);
    li.setAttribute('role', 'treeitem');
    const row = el('div', 'row');
    const caret = el('span', 'caret');
    const name = el('span', 'label', label);
    name.title = label;
    row.append(caret, name);
    const kids = el('ul', 'kids');
    kids.setAttribute('role', 'group');
    li.append(row, kids);
    const toggle = (on) => {
      li.classList.toggle('open', on);
      li.setAttribute('aria-expanded', on ? 'true' : 'false');
      kids.hidden = !on;
      if (key) setOpen(key, on);
      if (on && load) load(kids);
    };
    row.addEventListener('click', () => toggle(!li.classList.contains('open')));
    li.toggle = toggle;
    if (key && isOpen(key)) queueMicrotask(() => toggle(true)); else toggle(false);
    return { li, row, kids, name };
  }
  function message(ul, text, cls = 'hint') { ul.replaceChildren(el('li', cls, text)); }

  function podNode(cluster, p, showNamespace) {
    const target = { cluster, namespace: p.namespace, pod: p.name, container: null };
    const key = `${cluster}/${p.namespace}/${p.name}`;
    const label = showNamespace ? `${p.namespace}/${p.name}` : p.name;
    const n = node('pod', showNamespace ? null : key, label, (ul) => {
      ul.replaceChildren(...p.containers.map((c) => containerNode({ ...target, container: c.name }, c)));
    });
    n.li.dataset.pod = p.name;
    n.li.dataset.namespace = p.namespace;
    const st = podStatus(p);
    const dot = el('span', `dot ${st.cls}`);
    dot.title = st.text;
    const ready = p.containers.filter((c) => c.ready).length;
    const restarts = p.containers.reduce((a, c) => a + (c.restarts || 0), 0);
    const meta = el('span', 'meta');
    meta.append(el('span', 'ready', `${ready}/${p.containers.length}`));
    if (restarts) { const r = el('span', 'restarts', `↻${restarts}`); r.title = T('restarts'); meta.append(r); }
    meta.append(el('span', 'age', age(p.created)));
    meta.title = `${st.text} · ${T('ready')} ${ready}/${p.containers.length} · ${T('restarts')} ${restarts}`;
    n.row.insertBefore(dot, n.name);
    n.row.append(meta, actions(target));
    n.row.addEventListener('click', () => kws.select(target));
    n.row.addEventListener('dblclick', () => { if (may(cluster, p.namespace, 'exec')) kws.openTerminal(target); });
    return n.li;
  }
  function containerNode(target, c) {
    const li = el('li', 'node container');
    li.dataset.container = c.name;
    const row = el('div', 'row');
    const dot = el('span', `dot ${c.ready ? 'st-ok' : c.reason && BAD.test(c.reason) ? 'st-bad' : 'st-warn'}`);
    dot.title = c.reason || c.state;
    const name = el('span', 'label', c.name);
    name.title = c.image || c.name;
    const meta = el('span', 'meta', c.restarts ? `↻${c.restarts}` : (c.reason || ''));
    row.append(el('span', 'caret none'), dot, name, meta, actions(target));
    row.addEventListener('click', () => kws.select(target));
    li.append(row);
    return li;
  }

  async function loadPods(cluster, namespace, ul) {
    if (!ul.childElementCount) message(ul, T('loading…'));
    try {
      const { pods } = await kws.api(`/api/clusters/${enc(cluster)}/namespaces/${enc(namespace)}/pods`);
      prefs.set('last', { cluster, namespace });
      if (!pods.length) { message(ul, T('No pods in this namespace.')); return; }
      ul.replaceChildren(...pods.map((p) => podNode(cluster, p, false)));
    } catch (e) { message(ul, explainApi(e, namespace), 'error'); }
  }
  async function loadNamespaces(cluster, ul) {
    message(ul, T('loading…'));
    try {
      const [{ namespaces }, r] = await Promise.all([
        kws.api(`/api/clusters/${enc(cluster)}/namespaces`),
        kws.api(`/api/clusters/${enc(cluster)}/rights`).catch(() => ({ namespaces: {} })),
      ]);
      rights.set(cluster, r.namespaces);
      if (!namespaces.length) { message(ul, T('You see no namespace in this cluster: ask an admin for access.')); return; }
      ul.replaceChildren(...namespaces.map((ns) => {
        const n = node('namespace', `${cluster}/${ns}`, ns, (kids) => loadPods(cluster, ns, kids));
        n.li.dataset.namespace = ns;
        return n.li;
      }));
      const last = prefs.get('last', null);
      if (last && last.cluster === cluster && !state.open.some((k) => k.startsWith(`${cluster}/`))) {
        const li = ul.querySelector(`li.namespace[data-namespace="${CSS.escape(last.namespace)}"]`);
        if (li) li.toggle(true);
      }
    } catch (e) { message(ul, explainApi(e), 'error'); }
  }
  async function loadClusters() {
    const tree = $('tree');
    let clusters = [];
    try { ({ clusters } = await kws.api('/api/clusters')); } catch (e) { message(tree, explainApi(e), 'error'); return; }
    document.body.classList.toggle('no-access', !clusters.length);
    if (!clusters.length) {
      message(tree, T('You have no access yet: ask an admin to give you a rule for a cluster and namespace.'), 'no-access-text');
      $('empty-text').textContent = T('You have no access yet: ask an admin to give you a rule for a cluster and namespace.');
      return;
    }
    const ul = el('ul', 'roots');
    tree.replaceChildren(ul);
    for (const c of clusters) {
      if (!state.open.some((k) => k === c || k.startsWith(`${c}/`)) && clusters.length === 1) setOpen(c, true);
      const n = node('cluster', c, c, (kids) => loadNamespaces(c, kids));
      n.li.dataset.cluster = c;
      ul.append(n.li);
    }
    kws.clusters = clusters;
  }
  // Keep the expanded namespaces' pods current (status, restarts, age).
  setInterval(() => {
    for (const li of document.querySelectorAll('#tree li.namespace.open')) {
      const cluster = li.closest('li.cluster').dataset.cluster;
      const ul = li.querySelector(':scope > ul.kids');
      if (!ul.querySelector('li.pod.open')) loadPods(cluster, li.dataset.namespace, ul);
    }
  }, 10000);

  // ---- search across namespaces ----------------------------------------------------------
  let searchSeq = 0, searchTimer = null;
  $('pod-search').addEventListener('input', () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(search, 250);
  });
  $('pod-search').addEventListener('keydown', (e) => {
    if (e.key === 'Escape') { e.target.value = ''; search(); }
    if (e.key === 'Enter') { const b = $('search-results').querySelector('button.open-term:not([disabled])'); if (b) b.click(); }
  });
  async function search() {
    const q = $('pod-search').value.trim();
    const box = $('search-results');
    const mine = ++searchSeq;
    $('tree').hidden = !!q;
    box.hidden = !q;
    if (!q) return;
    message(box, T('searching…'));
    const ul = el('ul', 'roots');
    let failures = [];
    for (const c of kws.clusters || []) {
      try {
        const { pods } = await kws.api(`/api/clusters/${enc(c)}/pods?q=${enc(q)}`);
        if (!rights.has(c)) rights.set(c, (await kws.api(`/api/clusters/${enc(c)}/rights`)).namespaces);
        if (mine !== searchSeq) return;
        for (const p of pods) ul.append(podNode(c, p, true));
      } catch (e) { failures.push(`${c}: ${e.message}`); }
    }
    if (mine !== searchSeq) return;
    box.replaceChildren(ul);
    if (!ul.childElementCount) message(box, T('No pod matches "{q}" in the namespaces you may see.', { q }));
    for (const f of failures) box.append(el('p', 'error', f));
  }

  // ---- errors in words, with the next step ----------------------------------------------
  // {what, next, detail}: the first clause of the server's message, what to do about it, and the rest.
  function explainParts(err, target) {
    const ns = target && target.namespace;
    const next = {
      forbidden: T('Ask an admin for access to namespace {ns}.', { ns }),
      no_shell: T('This image has no shell (it may be distroless): read its logs instead, or ask an admin for a debug container.'),
      not_running: T('Wait until it runs (the tree shows its state), or read its logs.'),
      not_found: T('It may have been deleted or renamed: find it again in the tree.'),
      limit: T('Close a terminal you no longer need, then try again.'),
      cluster_unavailable: T('The cluster did not answer: try again in a moment; if it lasts, tell an admin.'),
      missing_tool: T('The container lacks a program this needs.'),
      unauthorized: T('Log in again.'),
      exists: T('Pick another name.'),
    }[err.code] || '';
    const message = String(err.message || err);
    // A 403 from inside the container (a file's permissions) is not for an admin to fix.
    if (err.code === 'forbidden' && !/^you may not|forbidden/i.test(message)) return { what: message, next: '', detail: '' };
    const cut = message.indexOf(': ');
    // In another language the server's English words move into the details, under a heading in that language.
    const heading = window.kwsLang !== 'en' && {
      forbidden: T('Access denied'), no_shell: T('This container has no shell'), not_running: T('Not running'),
      not_found: T('Not found'), limit: T('Too many terminals'), cluster_unavailable: T('The cluster did not answer'),
      missing_tool: T('A program is missing in the container'), unauthorized: T('Not logged in'),
      exists: T('That name is taken'),
    }[err.code];
    if (heading) return { what: heading, next, detail: message };
    return { what: cut > 0 && next ? message.slice(0, cut) : message, next, detail: cut > 0 && next ? message : '' };
  }
  function explain(err, target) {
    const p = explainParts(err, target);
    return p.next ? `${p.what}. ${p.next}` : p.what;
  }
  function explainApi(e, ns) {
    const code = e.status === 403 ? 'forbidden' : e.code;
    return explain({ code, message: e.message }, { namespace: ns || '…' });
  }
  kws.explainParts = explainParts;
  kws.explain = explain;
  kws.explainApi = explainApi;
  kws.may = may;
  const rightsLoading = new Map();   // cluster -> the request for its rights in flight
  kws.rightsFor = (cluster) => {      // this user's rights in `cluster`, fetched once (the Files pane waits)
    if (rights.has(cluster)) return Promise.resolve(rights.get(cluster));
    if (!rightsLoading.has(cluster)) {
      rightsLoading.set(cluster, kws.api(`/api/clusters/${enc(cluster)}/rights`)
        .then((r) => { if (!rights.has(cluster)) rights.set(cluster, r.namespaces); return rights.get(cluster); })
        .catch(() => ({}))
        .finally(() => rightsLoading.delete(cluster)));
    }
    return rightsLoading.get(cluster);
  };
  kws.denied = denied;

  // ---- the sidebar itself ------------------------------------------------------------------
  const sidebar = $('sidebar');
  const width = prefs.get('sidebarWidth', window.innerWidth < 1000 ? 220 : 280);
  sidebar.style.width = `${width}px`;
  sidebar.hidden = prefs.get('sidebarHidden', false);
  $('sidebar-gutter').hidden = sidebar.hidden;
  $('sidebar-toggle').addEventListener('click', () => {
    sidebar.hidden = !sidebar.hidden;
    $('sidebar-gutter').hidden = sidebar.hidden;
    prefs.set('sidebarHidden', sidebar.hidden);
  });
  $('sidebar-gutter').addEventListener('pointerdown', (e) => {
    const g = e.currentTarget, start = e.clientX, w = sidebar.getBoundingClientRect().width;
    e.preventDefault();
    g.setPointerCapture(e.pointerId);
    const move = (ev) => { sidebar.style.width = `${Math.max(140, Math.min(window.innerWidth - 200, w + ev.clientX - start))}px`; };
    const up = () => {
      g.removeEventListener('pointermove', move); g.removeEventListener('pointerup', up);
      prefs.set('sidebarWidth', Math.round(sidebar.getBoundingClientRect().width));
    };
    g.addEventListener('pointermove', move);
    g.addEventListener('pointerup', up);
  });

  loadClusters();
  kws.tree = { reload: loadClusters, search };
})();
