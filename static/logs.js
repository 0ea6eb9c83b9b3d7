// kube-webshell logs pane: GET .../pods/<pod>/logs streamed with fetch. Follow, tail, since, previous,
// timestamps, wrap, search, pause and download; one container or all of them with a prefix. Memory is
// bounded: at most MAX_LINES lines are kept, and a paused pane stops reading (the server then waits).
(() => {
  'use strict';
  const kws = window.kws, T = kws.T;
  const MAX_LINES = 5000;
  const STAMP = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)) (.*)$/;
  const panes = new Map();    // key -> LogPane
  const el = (tag, props = {}, ...kids) => { const n = Object.assign(document.createElement(tag), props); n.append(...kids); return n; };
  const enc = encodeURIComponent;
  const base = (t) => `/api/clusters/${enc(t.cluster)}/namespaces/${enc(t.namespace)}/pods/${enc(t.pod)}/logs`;

  class LogPane {
    constructor(target, containers) {
      this.target = target;
      this.containers = containers;
      this.key = `l:${target.cluster}/${target.namespace}/${target.pod}`;
      this.kind = 'logs';
      this.readers = [];
      this.lines = 0;
      this.paused = false;
      this.waiters = [];
      this.head = el('div', { className: 'tab logs-tab' }, el('span', { textContent: `≣ ${target.pod}` }));
      const close = el('button', { type: 'button', className: 'close', textContent: '×', title: T('close the logs') });
      close.addEventListener('click', (e) => { e.stopPropagation(); this.close(); });
      this.head.append(close);
      this.head.addEventListener('click', () => this.group && this.group.show(this));

      const opt = (value, text) => el('option', { value, textContent: text });
      this.container = el('select', { className: 'logs-container', ariaLabel: T('container') },
        ...containers.map((c) => opt(c, c)), ...(containers.length > 1 ? [opt('*', T('all containers'))] : []));
      this.container.value = target.container || containers[0];
      const check = (cls, label, on) => {
        const box = el('input', { type: 'checkbox', className: cls, checked: on });
        return [box, el('label', { className: 'logs-check' }, box, ` ${label}`)];
      };
      [this.follow, this.followLabel] = check('logs-follow', T('follow'), true);
      [this.previous, this.previousLabel] = check('logs-previous', T('previous'), false);
      [this.stamps, this.stampsLabel] = check('logs-timestamps', T('timestamps'), false);
      [this.wrap, this.wrapLabel] = check('logs-wrap', T('wrap'), true);
      this.tail = el('input', { type: 'number', className: 'logs-tail', min: 0, max: 100000, value: 500, title: T('lines from the end (empty: all)') });
      this.since = el('select', { className: 'logs-since', title: T('only lines newer than') },
        opt('', T('all time')), opt('300', '5 min'), opt('3600', '1 h'), opt('86400', '24 h'));
      this.search = el('input', { type: 'search', className: 'logs-search', placeholder: T('filter lines'), ariaLabel: T('filter lines') });
      this.pause = el('button', { type: 'button', className: 'logs-pause', textContent: T('Pause') });
      this.download = el('button', { type: 'button', className: 'logs-download', textContent: T('Download') });
      this.state = el('span', { className: 'logs-state' });
      const bar = el('div', { className: 'logs-bar' }, this.container, el('label', {}, `${T('tail')} `, this.tail),
        this.since, this.followLabel, this.previousLabel, this.stampsLabel, this.wrapLabel, this.search, this.pause,
        this.download, this.state);
      this.out = el('div', { className: 'logs-lines wrap', role: 'log', ariaLabel: T('log lines') });
      this.error = el('div', { className: 'logs-error' });
      this.pane = el('section', { className: 'pane logs-pane' }, bar, this.error, this.out);

      for (const c of [this.container, this.tail, this.since, this.follow, this.previous]) c.addEventListener('change', () => this.start());
      this.stamps.addEventListener('change', () => this.out.classList.toggle('stamps', this.stamps.checked));
      this.wrap.addEventListener('change', () => this.out.classList.toggle('wrap', this.wrap.checked));
      this.search.addEventListener('input', () => this.filter());
      this.pause.addEventListener('click', () => this.togglePause());
      this.download.addEventListener('click', () => this.save());
    }

    url(container, extra = {}) {
      const q = new URLSearchParams({ container, timestamps: '1' });
      if (this.follow.checked && !this.previous.checked) q.set('follow', '1');
      if (this.previous.checked) q.set('previous', '1');
      if (this.tail.value !== '') q.set('tail', String(Math.max(0, Math.floor(Number(this.tail.value) || 0))));
      if (this.since.value) q.set('since', this.since.value);
      for (const [k, v] of Object.entries(extra)) { if (v === null) q.delete(k); else q.set(k, v); }
      return `${base(this.target)}?${q}`;
    }
    chosen() { return this.container.value === '*' ? this.containers : [this.container.value]; }

    stop() {
      for (const r of this.readers) r.cancelled = true;
      this.readers = [];
      const go = this.waiters; this.waiters = []; for (const f of go) f();
    }
    start() {
      this.stop();
      this.out.replaceChildren();
      this.error.replaceChildren();
      this.lines = 0;
      const many = this.container.value === '*';
      for (const c of this.chosen()) this.read(c, many ? `[${c}] ` : '', this.url(c));
    }
    async read(container, prefix, url, resume) {
      const me = { cancelled: false, last: resume ? resume.last : null, lastText: resume ? resume.lastText : null };
      this.readers.push(me);
      this.setState(T('loading…'));
      let r;
      try {
        r = await fetch(url, { credentials: 'same-origin', headers: { Accept: 'text/plain, application/json' } });
      } catch (e) { this.fail(container, { code: 'cluster_unavailable', message: T('connection lost') }); return; }
      if (me.cancelled) { r.body && r.body.cancel().catch(() => {}); return; }
      if (!r.ok) {
        const body = await r.json().catch(() => ({}));
        const err = body.error || { message: `HTTP ${r.status}` };
        this.fail(container, r.status === 403 ? { ...err, code: 'forbidden' } : err);
        return;
      }
      this.setState(this.follow.checked && !this.previous.checked ? T('following') : '');
      const body = r.body || new Blob([]).stream();   // 204: a pod without a node has no log at all
      const reader = body.pipeThrough(new TextDecoderStream()).getReader();
      me.reader = reader;
      let rest = '';
      for (;;) {
        let chunk;
        try { chunk = await reader.read(); } catch (e) { break; }
        // Paused: hold this one piece and read no more; the server waits behind the socket's buffers.
        while (this.paused && !me.cancelled) await new Promise((ok) => this.waiters.push(ok));
        if (me.cancelled) { reader.cancel().catch(() => {}); return; }
        if (chunk.done) break;
        const parts = (rest + chunk.value).split('\n');
        rest = parts.pop();
        this.add(parts, prefix, me);
      }
      if (rest && !me.cancelled) this.add([rest], prefix, me);
      if (me.cancelled) return;
      if (!me.count && !resume) {   // ended without a line (a live follow does not end)
        this.error.append(window.kwsPanes.errorCard({
          what: T('No log lines from {c}', { c: container }),
          next: T('A container that has not started yet has none, and "previous" needs a restarted container: wait, or change the options, then try again.'),
          detail: '' }, T('Try again'), () => this.start()));
      }
      // A follow the server ended (a quiet spell, a restart of the API server): resume after the last line.
      if (this.follow.checked && !this.previous.checked && me.last) {
        this.readers = this.readers.filter((x) => x !== me);
        setTimeout(() => { if (!me.cancelled) this.read(container, prefix, this.url(container, { tail: null, since: null, since_time: me.last }), me); }, 1000);
      } else this.setState(T('end of log'));
    }
    add(lines, prefix, me) {
      const atBottom = this.out.scrollTop + this.out.clientHeight >= this.out.scrollHeight - 4;
      const q = this.search.value.toLowerCase();
      const frag = document.createDocumentFragment();
      for (const raw of lines) {
        const m = STAMP.exec(raw);
        const stamp = m ? m[1] : '', text = m ? m[2] : raw;
        if (stamp && me.last && (stamp < me.last || (stamp === me.last && text === me.lastText))) continue;   // seen before a resume
        if (stamp) { me.last = stamp; me.lastText = text; }
        me.count = (me.count || 0) + 1;
        const line = el('div', { className: 'line' },
          el('span', { className: 'ts', textContent: stamp ? `${stamp} ` : '' }),
          prefix ? el('span', { className: 'prefix', textContent: prefix }) : '', el('span', { className: 'text', textContent: text }));
        if (q && !line.textContent.toLowerCase().includes(q)) line.hidden = true;
        frag.append(line);
        this.lines += 1;
      }
      this.out.append(frag);
      while (this.lines > MAX_LINES) { this.out.firstChild.remove(); this.lines -= 1; }
      if (atBottom) this.out.scrollTop = this.out.scrollHeight;
    }
    filter() {
      const q = this.search.value.toLowerCase();
      for (const line of this.out.children) line.hidden = !!q && !line.textContent.toLowerCase().includes(q);
    }
    togglePause() {
      this.paused = !this.paused;
      this.pause.textContent = this.paused ? T('Resume') : T('Pause');
      this.pause.classList.toggle('active', this.paused);
      this.setState(this.paused ? T('paused') : T('following'));
      if (!this.paused) { const go = this.waiters; this.waiters = []; for (const f of go) f(); }
    }
    save() {
      for (const c of this.chosen()) {
        const a = el('a', { href: this.url(c, { follow: null, download: '1' }), download: '', hidden: true });
        document.body.append(a); a.click(); a.remove();
      }
    }
    fail(container, err) {
      this.setState('');
      const parts = kws.explainParts ? kws.explainParts(err, this.target) : { what: err.message, next: '', detail: '' };
      if (this.containers.length > 1) parts.what = `${container}: ${parts.what}`;
      this.error.append(window.kwsPanes.errorCard(parts, T('Try again'), () => this.start()));
    }
    setState(text) { this.state.textContent = text; }
    onShow() {}
    close() { this.stop(); panes.delete(this.key); kws.layout.remove(this); }
  }

  async function containersOf(t) {
    const { pods } = await kws.api(`/api/clusters/${enc(t.cluster)}/namespaces/${enc(t.namespace)}/pods`);
    const pod = pods.find((p) => p.name === t.pod);
    if (!pod) throw new Error(T('pod {pod} not found', { pod: t.pod }));
    return pod.containers.map((c) => c.name);
  }

  async function open(target) {
    const t = target || kws.activeTarget();
    if (!t) return null;
    const key = `l:${t.cluster}/${t.namespace}/${t.pod}`;
    let p = panes.get(key);
    if (!p) {
      let containers = [t.container].filter(Boolean);
      try { containers = await containersOf(t); } catch (e) { if (!containers.length) { kws.reportError && kws.reportError(e); return null; } }
      p = new LogPane(t, containers);
      panes.set(key, p);
      const beside = kws.active;
      if (beside && beside.group) kws.layout.split(p, 'row', beside); else kws.layout.add(p);
      p.start();
    } else {
      if (t.container && p.containers.includes(t.container) && p.container.value !== t.container) { p.container.value = t.container; p.start(); }
      p.group.show(p);
    }
    return p;
  }

  const toggle = el('button', { type: 'button', id: 'logs-toggle', textContent: T('Logs'),
    title: T("Logs of the active terminal's container, in a pane beside it") });
  const bar = document.querySelector('header.bar');
  if (bar) bar.insertBefore(toggle, document.getElementById('picker-error'));
  toggle.addEventListener('click', () => open());
  kws.logs = { open, panes };
})();
