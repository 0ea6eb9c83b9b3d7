// kube-webshell file browser and transfers (docs/API.md): list, navigate, download, drag-and-drop upload.
// Every name from the container is shown with textContent, never as HTML.
(() => {
  'use strict';
  const panel = document.getElementById('files');
  if (!panel || !window.kws) return;
  const kws = window.kws, T = kws.T;
  const el = (tag, props = {}, ...kids) => {
    const n = document.createElement(tag);
    Object.assign(n, props);
    n.append(...kids);
    return n;
  };
  const shown = (name) => name.replace(/\n/g, '␤').replace(/[\x00-\x1f\x7f]/g, '�');

  // ---- skeleton ------------------------------------------------------------
  const title = el('strong', { className: 'files-title' });
  const close = el('button', { type: 'button', textContent: '×', title: T('hide the file browser') });
  const up = el('button', { type: 'button', textContent: '↑', title: T('parent directory') });
  const pathInput = el('input', { className: 'files-path', ariaLabel: T('directory'), spellcheck: false });
  const refresh = el('button', { type: 'button', textContent: '⟳', title: T('refresh') });
  const pickFiles = el('input', { type: 'file', multiple: true, hidden: true });
  const pickFolder = el('input', { type: 'file', multiple: true, hidden: true });
  pickFolder.setAttribute('webkitdirectory', '');
  const uploadBtn = el('button', { type: 'button', textContent: T('Upload files…') });
  const folderBtn = el('button', { type: 'button', textContent: T('Upload folder…') });
  const mkdirBtn = el('button', { type: 'button', className: 'files-mkdir', textContent: T('New folder…') });
  const filter = el('input', { type: 'search', className: 'files-filter', placeholder: T('filter by name'), spellcheck: false });
  filter.setAttribute('aria-label', T('filter by name'));
  const error = el('div', { className: 'files-error error', role: 'alert' });
  const columns = el('div', { className: 'files-columns' });
  const list = el('ul', { className: 'files-list', ariaLabel: T('directory entries') });
  const totalBar = el('progress', { max: 100, value: 0 });
  const totalText = el('span', { className: 'files-total-text' });
  const total = el('div', { className: 'files-total', hidden: true }, totalBar, totalText);
  const transfers = el('ul', { className: 'files-transfers', ariaLabel: T('transfers') });
  const drop = el('div', { className: 'files-drop', hidden: true });
  panel.append(
    el('div', { className: 'files-head' }, title, close),
    el('div', { className: 'files-nav' }, up, pathInput, refresh),
    el('div', { className: 'files-actions' }, uploadBtn, folderBtn, mkdirBtn, filter, pickFiles, pickFolder),
    error, columns, list, total, transfers);
  document.body.append(drop);
  const toggle = el('button', { type: 'button', id: 'files-toggle', textContent: T('Files'),
    title: T("Files of the active terminal's container, in a pane beside it") });
  const bar = document.querySelector('header.bar');
  if (bar) bar.insertBefore(toggle, document.getElementById('picker-error'));
  // The panel is a pane of the workspace layout: beside the terminal, never over it.
  const head = el('div', { className: 'tab files-tab', role: 'tab' }, el('span', { textContent: T('Files') }));
  const headClose = el('button', { type: 'button', className: 'close', textContent: '×', title: T('hide the file browser') });
  head.append(headClose);
  const item = { key: 'files', kind: 'files', head, pane: el('section', { className: 'pane files-pane' }) };
  item.pane.append(panel);
  head.addEventListener('click', () => { if (item.group) item.group.show(item); });
  headClose.addEventListener('click', (e) => { e.stopPropagation(); hide(); });
  function place() {
    panel.hidden = false;
    if (item.group) { item.group.show(item); return; }
    const beside = kws.active;
    if (beside && beside.group) kws.layout.split(item, 'row', beside); else kws.layout.add(item);
  }
  function hide() {
    panel.hidden = true;
    toggle.classList.remove('active');
    if (item.group) kws.layout.remove(item);
  }

  // ---- state -----------------------------------------------------------------
  let target = null;         // {cluster, namespace, pod, container}
  let dir = '';              // absolute path the container reported ('' = its working directory)
  let loads = 0;             // sequence of listings: only the latest one is shown
  let edits = 0;             // focus and keystrokes in the path box: a listing never overwrites it once the user is in it
  const key = (t) => (t ? [t.cluster, t.namespace, t.pod, t.container || ''].join('\n') : '');

  function base(t) {
    const e = encodeURIComponent;
    return `/api/clusters/${e(t.cluster)}/namespaces/${e(t.namespace)}/pods/${e(t.pod)}/files`;
  }
  function url(t, action, params) {
    const q = new URLSearchParams();
    if (t.container) q.set('container', t.container);
    for (const [k, v] of Object.entries(params)) q.set(k, v);
    return `${base(t)}/${action}?${q}`;
  }
  const join = (d, name) => (d.endsWith('/') ? d + name : `${d}/${name}`);
  const parent = (d) => (d.lastIndexOf('/') > 0 ? d.slice(0, d.lastIndexOf('/')) : '/');
  function size(n) {
    const units = ['B', 'KB', 'MB', 'GB', 'TB'];
    let i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i += 1; }
    return `${new Intl.NumberFormat(window.kwsLang, { maximumFractionDigits: i ? 1 : 0 }).format(n)} ${units[i]}`;
  }

  // ---- browsing --------------------------------------------------------------
  function follow() {
    const t = kws.activeTarget();
    if (key(t) === key(target)) return false;
    target = t;
    dir = '';
    if (!panel.hidden) load();
    return true;
  }

  async function load(path) {
    if (!target) { title.textContent = T('Files: pick a pod in the tree, or open a terminal'); list.replaceChildren(); return; }
    title.textContent = T('Files: {where}', { where: `${target.pod}${target.container ? '/' + target.container : ''}` });
    rights();
    error.textContent = '';
    const want = path === undefined ? dir : path;
    const seq = ++loads;
    const typed = edits;
    try {
      // The user's rights decide which actions are enabled: wait for them (a deep link can open
      // the pane before the tree has fetched them; until then every action would look allowed).
      const [body] = await Promise.all([kws.api(url(target, 'list', want ? { path: want } : {})),
        kws.rightsFor ? kws.rightsFor(target.cluster) : null]);
      if (seq !== loads) return;                 // a later navigation won
      rights();
      dir = body.path;
      if (typed === edits) pathInput.value = dir;   // else the user is typing: keep their text
      panel.dataset.path = dir;                  // the directory uploads go to
      render(body.entries, body.truncated);
    } catch (e) {
      if (seq === loads) error.textContent = explain(e);   // in place; the listing stays
    }
  }

  // Actions the user has no right to are disabled, with the reason as their tooltip.
  const may = (right) => !target || !kws.may || kws.may(target.cluster, target.namespace, right);
  function rights() {
    for (const b of [uploadBtn, folderBtn, mkdirBtn]) {
      b.disabled = !may('upload');
      b.title = b.disabled ? kws.denied(target.namespace, 'upload') : '';
    }
  }
  const explain = (e) => (kws.explainApi ? kws.explainApi(e, target.namespace) : e.message);
  // A failed download would save the JSON error as a file: ask first (HEAD) and show the error here.
  async function fetchFile(href, name) {
    error.textContent = '';
    const r = await fetch(href, { method: 'HEAD', credentials: 'same-origin' }).catch(() => null);
    if (r && r.ok) {
      const a = el('a', { href, download: name, hidden: true });
      document.body.append(a); a.click(); a.remove();
      return;
    }
    let message = r ? `${r.status} ${r.statusText}` : T('connection lost');
    if (r) {   // HEAD has no body: the GET's JSON error says why
      const g = await fetch(href, { credentials: 'same-origin', headers: { Accept: 'application/json', Range: 'bytes=0-0' } })
        .catch(() => null);
      const body = g ? await g.json().catch(() => ({})) : {};
      if (body.error) message = kws.explainApi(new kws.ApiError(body.error.message, g.status, body.error.code), target.namespace);
    }
    error.textContent = `${shown(name)}: ${message}`;
  }

  function render(entries, truncated) { table.show(entries, truncated); }

  function button(text, cls, title, enabled, run) {
    const b = el('button', { type: 'button', className: cls, textContent: text, disabled: !enabled });
    b.title = enabled ? title : kws.denied(target.namespace, 'upload');
    b.addEventListener('click', run);
    return b;
  }
  const table = window.KwsFileTable({
    list, head: columns, filter, size,
    row(entry) {
      const path = join(dir, entry.name);
      const get = el('a', { className: 'download', textContent: '⬇', title: T('download {name}', { name: shown(entry.name) }) });
      get.href = url(target, 'download', entry.type === 'dir' ? { path, archive: 'tar.gz' } : { path });
      get.setAttribute('download', '');
      if (!may('download')) {
        get.removeAttribute('href');
        get.classList.add('disabled');
        get.setAttribute('aria-disabled', 'true');
        get.title = kws.denied(target.namespace, 'download');
      } else if (entry.type !== 'dir') {
        get.addEventListener('click', (e) => { e.preventDefault(); fetchFile(get.href, entry.name); });
      }
      const can = may('upload');
      const ren = button('✎', 'rename', T('rename {name}', { name: shown(entry.name) }), can,
        () => table.rename(entry.name, (name) => change('rename', { path, name })));
      const del = button('✕', 'delete', T('delete {name}', { name: shown(entry.name) }), can, () => remove(entry, path));
      return { open: entry.type === 'dir' || entry.type === 'link' ? () => load(path) : null, actions: [get, ren, del] };
    },
  });

  // ---- new folder, rename, delete: POST with the CSRF header; the error stays in the pane -------------
  async function change(action, params) {
    error.textContent = '';
    const t = target;
    const r = await fetch(url(t, action, params), { method: 'POST', credentials: 'same-origin',
      headers: { Accept: 'application/json', 'X-CSRFToken': kws.csrfToken() } }).catch(() => null);
    const body = r ? await r.json().catch(() => ({})) : {};
    if (!r || !r.ok) {
      const what = { mkdir: T('Cannot create the folder'), rename: T('Cannot rename'), delete: T('Cannot delete') }[action];
      error.textContent = `${what}: ${r ? describe(body.error ? body.error.message : r.statusText, r.status, body.error && body.error.code)
        : T('connection lost')}`;
      return false;
    }
    if (key(t) === key(target)) load();
    return true;
  }
  // The whole of the server's words (why it failed), then the next step: "…: a file or folder of that name exists. Pick another name."
  function describe(message, status, code) {
    if (!kws.explainParts) return message;
    const p = kws.explainParts({ code: status === 403 ? 'forbidden' : code, message }, { namespace: target.namespace });
    const said = !p.detail ? p.what : (p.detail.startsWith(p.what) ? p.detail : `${p.what}: ${p.detail}`);
    return p.next ? `${said}. ${p.next}` : said;
  }
  async function remove(entry, path) {
    const name = shown(entry.name);
    const text = entry.type === 'dir'
      ? T('Delete the folder {name} and everything in it? This cannot be undone.', { name })
      : T('Delete {name}? This cannot be undone.', { name });
    if (await window.kwsPanes.confirmDialog(text, T('Delete'))) await change('delete', { path });
  }
  mkdirBtn.addEventListener('click', () => {
    follow();
    if (target) table.create((name) => (name ? change('mkdir', { path: join(dir || '.', name) }) : Promise.resolve(false)));
  });

  // ---- uploads (uploads.js: the queue, one row per file, the total of a drop) ---------------------
  const uploads = window.KwsUploads({ transfers, total, totalBar, totalText, url, size, join, shown,
    csrf: () => kws.csrfToken(), idle: () => load() });
  function enqueue(items) {
    if (!target) { error.textContent = T('pick a pod (or open a terminal) first'); return; }
    if (panel.hidden) show();
    uploads.add({ ...target }, dir || '.', items);
  }

  let depth = 0;
  const hasFiles = (e) => e.dataTransfer && Array.from(e.dataTransfer.types || []).includes('Files');
  window.addEventListener('dragenter', (e) => {
    if (!hasFiles(e)) return;
    depth += 1;
    follow();
    drop.textContent = target ? T('Drop to upload into {where}', { where: `${target.pod}:${dir || '~'}` }) : T('Pick a pod to upload into');
    drop.hidden = false;
  });
  window.addEventListener('dragleave', () => { depth = Math.max(0, depth - 1); if (!depth) drop.hidden = true; });
  window.addEventListener('dragover', (e) => { if (hasFiles(e)) e.preventDefault(); });
  window.addEventListener('drop', (e) => {
    depth = 0;
    drop.hidden = true;
    if (!e.dataTransfer) return;
    e.preventDefault();
    follow();
    window.KwsUploads.dropped(e.dataTransfer).then(enqueue).catch((err) => { error.textContent = String(err.message || err); });
  });

  // ---- controls ------------------------------------------------------------------
  function show(pin) {
    if (pin) kws.select(pin, true);
    place();
    toggle.classList.add('active');
    if (!follow()) load();
  }
  toggle.addEventListener('click', () => { if (panel.hidden) show(); else hide(); });
  close.addEventListener('click', hide);
  up.addEventListener('click', () => load(parent(dir)));
  refresh.addEventListener('click', () => load());
  // Focus counts: a user who clicked in (and maybe selected all) must not get a listing's path spliced under the cursor.
  for (const type of ['focus', 'input']) pathInput.addEventListener(type, () => { edits += 1; });
  pathInput.addEventListener('keydown', (e) => { if (e.key === 'Enter') load(pathInput.value); });
  uploadBtn.addEventListener('click', () => { follow(); pickFiles.click(); });
  folderBtn.addEventListener('click', () => { follow(); pickFolder.click(); });
  const picked = (input) => () => {
    enqueue(Array.from(input.files).map((file) => ({ file, rel: file.webkitRelativePath || file.name })));
    input.value = '';
  };
  pickFiles.addEventListener('change', picked(pickFiles));
  pickFolder.addEventListener('change', picked(pickFolder));
  setInterval(follow, 1000);      // the active terminal or the pickers changed
  kws.files = { show, hide, load, enqueue };
})();
