// kube-webshell uploads for the Files pane (files.js): a queue of PUTs (PARALLEL at once), one row per file
// with progress, speed and Cancel, and one bar for the total of a drop; the files and folders of a drop.
// Every name is shown with textContent, never as HTML. Loaded before files.js.
(() => {
  'use strict';
  const PARALLEL = 2;                       // uploads running at once from this page
  const T = (s, v) => (window.kwsT ? window.kwsT(s, v) : s);
  const el = (tag, props = {}, ...kids) => {
    const n = document.createElement(tag);
    Object.assign(n, props);
    n.append(...kids);
    return n;
  };

  // opts: { transfers (<ul>), total, totalBar, totalText, url(t, action, params), size(n), join(d, name), shown(name),
  //         csrf() -> token, idle() once the queue is empty }
  function Uploads(opts) {
    const { transfers, total, totalBar, totalText, url, size, join, shown } = opts;
    const queue = [];
    let running = 0;
    // The total of the uploads since the queue was last empty: one bar over every file of a drop.
    let batch = [];
    function totals() {
      const bytes = batch.reduce((n, u) => n + u.file.size, 0);
      const sent = batch.reduce((n, u) => n + (u.state === 'done' ? u.file.size : u.loaded), 0);
      const ended = batch.filter((u) => u.state).length;
      total.hidden = batch.length < 2;
      totalBar.value = bytes ? Math.min(Math.floor((sent / bytes) * 100), ended === batch.length ? 100 : 99) : (ended === batch.length ? 100 : 0);
      total.dataset.done = String(ended === batch.length);
      const failed = batch.filter((u) => u.state && u.state !== 'done').length;
      totalText.textContent = T('{done} of {n} files, {sent} of {total}', { done: ended, n: batch.length, sent: size(sent), total: size(bytes) })
        + (failed ? ` · ${T('{n} not uploaded', { n: failed })}` : '');
    }

    function add(t, into, items) {
      if (!running && !queue.length) batch = [];
      for (const { file, rel } of items) {
        const u = new Upload(t, into, file, rel);
        batch.push(u);
        queue.push(u);
      }
      totals();
      pump();
    }
    function pump() {
      while (running < PARALLEL && queue.length) {
        running += 1;
        queue.shift().start().finally(() => {
          running -= 1;
          pump();
          if (!running && !queue.length) opts.idle();
        });
      }
    }

    class Upload {
      constructor(t, into, file, rel) {
        this.t = t; this.file = file; this.rel = rel;
        this.loaded = 0; this.state = '';
        this.path = join(into, rel);
        this.bar = el('progress', { max: 100, value: 0 });
        this.pct = el('span', { className: 'pct', textContent: '0 %' });
        this.speed = el('span', { className: 'speed' });
        this.status = el('span', { className: 'status-text', textContent: T('queued') });
        this.cancel = el('button', { type: 'button', textContent: T('Cancel'), className: 'cancel' });
        this.cancel.addEventListener('click', () => this.abort());
        this.li = el('li', { className: 'transfer' },
          el('span', { className: 'name', textContent: shown(rel) }), this.bar, this.pct, this.speed, this.status, this.cancel);
        this.li.dataset.name = rel;
        transfers.prepend(this.li);
      }
      abort() {
        this.cancelled = true;
        if (this.xhr) this.xhr.abort(); else this.finish('cancelled', T('cancelled'));
      }
      finish(state, text) {
        this.state = state;
        this.li.classList.add(state);
        totals();
        this.status.textContent = text;
        this.cancel.disabled = true;
      }
      start() {
        if (this.cancelled) return Promise.resolve();
        return new Promise((resolve) => {
          const xhr = this.xhr = new XMLHttpRequest();
          const began = performance.now();
          xhr.open('PUT', url(this.t, 'upload', { path: this.path, mkdirs: this.rel.includes('/') ? '1' : '0' }));
          xhr.setRequestHeader('X-CSRFToken', opts.csrf());
          xhr.setRequestHeader('Accept', 'application/json');
          this.status.textContent = T('uploading');
          xhr.upload.onprogress = (e) => {
            if (!e.lengthComputable) return;
            this.loaded = Math.min(e.loaded, this.file.size);
            totals();
            const p = e.total ? Math.floor((e.loaded / e.total) * 100) : 100;
            this.bar.value = Math.min(p, 99);           // 100 % only once the container confirmed
            this.pct.textContent = `${Math.min(p, 99)} %`;
            const secs = (performance.now() - began) / 1000;
            if (secs > 0.2) this.speed.textContent = `${size(e.loaded / secs)}/s`;
          };
          xhr.onload = () => {
            let body = {};
            try { body = JSON.parse(xhr.responseText); } catch (e) { /* not JSON */ }
            if (xhr.status === 200) {
              this.bar.value = 100;
              this.pct.textContent = '100 %';
              this.finish('done', T('done'));
            } else {
              this.finish('failed', body.error ? body.error.message : T('failed (HTTP {status})', { status: xhr.status }));
            }
            resolve();
          };
          xhr.onerror = () => { this.finish('failed', T('connection lost')); resolve(); };
          xhr.onabort = () => { this.finish('cancelled', T('cancelled')); resolve(); };
          xhr.send(this.file);
        });
      }
    }

    return { add };
  }

  // Files and folders of a drop: read the items synchronously, then walk folders.
  async function dropped(dt) {
    const roots = [];
    for (const item of Array.from(dt.items || [])) {
      if (item.kind !== 'file') continue;
      const entry = item.webkitGetAsEntry ? item.webkitGetAsEntry() : null;
      roots.push(entry && entry.isDirectory ? { entry } : { file: item.getAsFile() });
    }
    if (!roots.length) for (const file of Array.from(dt.files || [])) roots.push({ file });
    const out = [];
    for (const r of roots) {
      if (r.file) out.push({ file: r.file, rel: r.file.name });
      else await walk(r.entry, r.entry.name, out);
    }
    return out;
  }
  async function walk(entry, rel, out) {
    if (entry.isFile) {
      out.push({ file: await new Promise((ok, ko) => entry.file(ok, ko)), rel });
      return;
    }
    const reader = entry.createReader();
    for (;;) {
      const batch = await new Promise((ok, ko) => reader.readEntries(ok, ko));
      if (!batch.length) return;
      for (const child of batch) await walk(child, `${rel}/${child.name}`, out);
    }
  }

  Uploads.dropped = dropped;
  window.KwsUploads = Uploads;
})();
