// kube-webshell file table for the Files pane (files.js): name, mode, owner, size and date columns,
// sorting by a column, a filter by name, and the inline editors of "new folder" and "rename".
// Every name from the container is shown with textContent, never as HTML. Loaded before files.js.
(() => {
  'use strict';
  const T = (s, v) => (window.kwsT ? window.kwsT(s, v) : s);
  const el = (tag, props = {}, ...kids) => {
    const n = document.createElement(tag);
    Object.assign(n, props);
    n.append(...kids);
    return n;
  };
  const shown = (name) => name.replace(/\n/g, '␤').replace(/[\x00-\x1f\x7f]/g, '�');
  const COLUMNS = [
    ['name', () => T('Name')], ['mode', () => T('Mode')], ['owner', () => T('Owner')],
    ['size', () => T('Size')], ['mtime', () => T('Modified')],
  ];
  const collator = new Intl.Collator(window.kwsLang || undefined, { numeric: true });
  const compare = {
    name: (a, b) => collator.compare(a.name, b.name),
    mode: (a, b) => collator.compare(a.mode, b.mode),
    owner: (a, b) => collator.compare(`${a.owner}:${a.group}`, `${b.owner}:${b.group}`),
    size: (a, b) => a.size - b.size,
    mtime: (a, b) => a.mtime - b.mtime,
  };

  // This year: month, day and time; older: the date with its year.
  function short(when) {
    const thisYear = when.getFullYear() === new Date().getFullYear();
    return when.toLocaleString(window.kwsLang, thisYear
      ? { month: 'numeric', day: 'numeric', hour: '2-digit', minute: '2-digit' }
      : { year: 'numeric', month: 'numeric', day: 'numeric' });
  }

  // opts: { list (the <ul>), head (a container for the column buttons), filter (an <input>),
  //         row(entry) -> {open, download, actions: [button...]}, size(n) -> text }
  function FileTable(opts) {
    let entries = [], truncated = false, sort = { key: 'name', dir: 1 }, editing = null;
    const buttons = COLUMNS.map(([key, label]) => {
      const b = el('button', { type: 'button', className: `col col-${key}`, textContent: label() });
      b.dataset.key = key;
      b.title = T('sort by {column}', { column: label() });
      b.addEventListener('click', () => {
        sort = { key, dir: sort.key === key ? -sort.dir : 1 };
        render();
      });
      return b;
    });
    opts.head.append(...buttons);
    opts.filter.addEventListener('input', () => render());

    function sorted() {
      const q = opts.filter.value.trim().toLowerCase();
      const pick = q ? entries.filter((e) => e.name.toLowerCase().includes(q)) : entries.slice();
      const by = compare[sort.key];
      // Folders stay above files whatever the column; within each, the chosen order (names break ties).
      return pick.sort((a, b) => ((a.type === 'dir') !== (b.type === 'dir') ? (a.type === 'dir' ? -1 : 1)
        : (by(a, b) * sort.dir) || compare.name(a, b)));
    }

    function cell(cls, text, title) {
      const c = el('span', { className: cls, textContent: text });
      if (title) c.title = title;
      return c;
    }

    function row(entry) {
      const r = opts.row(entry);
      const name = el('span', { className: `name ${entry.type}`, textContent: shown(entry.name) });
      name.title = entry.link_target ? `${shown(entry.name)} → ${shown(entry.link_target)}` : shown(entry.name);
      if (r.open) {
        name.tabIndex = 0;
        name.setAttribute('role', 'button');
        name.addEventListener('click', r.open);
        name.addEventListener('keydown', (e) => { if (e.key === 'Enter') r.open(); });
      }
      const when = new Date(entry.mtime * 1000);
      const li = el('li', {},
        name,
        cell('mode', entry.mode),
        cell('owner', entry.owner, `${entry.owner}:${entry.group}`),
        cell('size', entry.type === 'dir' ? '' : opts.size(entry.size)),
        cell('mtime', short(when), when.toLocaleString(window.kwsLang)),
        el('span', { className: 'acts' }, ...r.actions));
      li.dataset.name = entry.name;
      li.dataset.type = entry.type;
      return li;
    }

    // An inline name editor: Enter calls done(value) (a promise: the editor stays until it settles), Esc cancels.
    function editor(value, placeholder, done) {
      const input = el('input', { className: 'files-name-edit', value, placeholder, spellcheck: false });
      input.setAttribute('aria-label', placeholder);
      input.addEventListener('keydown', async (e) => {
        if (e.key === 'Escape') { e.preventDefault(); editing = null; render(); return; }
        if (e.key !== 'Enter' || input.disabled) return;
        e.preventDefault();
        input.disabled = true;
        const ok = await done(input.value).catch(() => false);
        input.disabled = false;
        if (ok) { editing = null; } else input.focus();
      });
      setTimeout(() => { input.focus(); input.select(); }, 0);
      return input;
    }

    function render() {
      for (const b of buttons) {
        b.classList.toggle('sorted', b.dataset.key === sort.key);
        b.dataset.dir = b.dataset.key === sort.key ? (sort.dir > 0 ? 'asc' : 'desc') : '';
        b.setAttribute('aria-sort', b.dataset.key === sort.key ? (sort.dir > 0 ? 'ascending' : 'descending') : 'none');
      }
      const shownEntries = sorted();
      const rows = shownEntries.map((entry) => {
        const li = row(entry);
        if (editing && editing.rename === entry.name) {
          li.querySelector('.name').replaceWith(editor(entry.name, T('new name'), editing.done));
          li.classList.add('editing');
        }
        return li;
      });
      if (editing && editing.create) {
        const li = el('li', { className: 'files-new editing' }, editor('', T('folder name'), editing.done));
        rows.unshift(li);
      }
      opts.list.replaceChildren(...rows);
      const hidden = entries.length - shownEntries.length;
      if (hidden) opts.list.append(el('li', { className: 'meta', textContent: T('{n} entries hidden by the filter', { n: hidden }) }));
      if (truncated) opts.list.append(el('li', { className: 'meta', textContent: T('… more entries not shown') }));
    }

    return {
      show(list, more) { entries = list; truncated = more; editing = null; render(); },
      render,
      // Start the new-folder editor, or rename `name`; `done(value)` resolves true when it worked.
      create(done) { editing = { create: true, done }; render(); },
      rename(name, done) { editing = { rename: name, done }; render(); },
      get sort() { return { ...sort }; },
    };
  }
  window.KwsFileTable = FileTable;
})();
