// kube-webshell workspace layout: groups of tabs that split side by side (row) or top/bottom (col).
// An item is {key, kind, head, pane, title}; `head` goes to its group's tab strip, `pane` to its body.
// Panes are refitted by their owners through a ResizeObserver: any change of a pane's box counts.
(() => {
  'use strict';
  const el = (tag, cls, text) => {
    const n = document.createElement(tag);
    if (cls) n.className = cls;
    if (text !== undefined) n.textContent = text;
    return n;
  };
  const t = (s) => (window.kwsT ? window.kwsT(s) : s);

  class Group {
    constructor(layout) {
      this.layout = layout;
      this.items = [];
      this.shown = null;
      this.el = el('div', 'group');
      this.el.group = this;
      const strip = el('div', 'group-bar');
      this.tabs = el('nav', 'tabs');
      this.tabs.setAttribute('role', 'tablist');
      const right = el('button', 'split-btn', '⇆');
      right.type = 'button'; right.title = t('Split right: move this tab into a new pane beside');
      right.dataset.split = 'row';
      const down = el('button', 'split-btn', '⇅');
      down.type = 'button'; down.title = t('Split down: move this tab into a new pane below');
      down.dataset.split = 'col';
      for (const b of [right, down]) {
        b.addEventListener('click', () => { if (this.shown) layout.split(this.shown, b.dataset.split); });
      }
      strip.append(this.tabs, right, down);
      this.body = el('div', 'group-body');
      this.el.append(strip, this.body);
      this.el.addEventListener('mousedown', () => { layout.current = this; });
    }
    add(item) {
      item.group = this;
      this.items.push(item);
      this.tabs.append(item.head);
      this.body.append(item.pane);
      this.show(item);
    }
    drop(item) {
      this.items = this.items.filter((x) => x !== item);
      if (this.shown === item) this.shown = null;
      item.group = null;
      if (this.items.length && !this.shown) this.show(this.items[this.items.length - 1]);
    }
    show(item) {
      for (const x of this.items) {
        const on = x === item;
        x.pane.classList.toggle('shown', on);
        x.head.classList.toggle('shown', on);
        x.head.setAttribute('aria-selected', on ? 'true' : 'false');
      }
      this.shown = item;
      if (item.onShow) item.onShow();
    }
  }

  class Layout {
    constructor(root, onChange) {
      this.root = root;          // the element the tree of splits and groups lives in
      this.current = null;       // the group new tabs go to
      this.onChange = onChange || (() => {});
    }
    groups() { return [...this.root.querySelectorAll('.group')].map((n) => n.group); }
    items() { return this.groups().flatMap((g) => g.items); }
    empty() { return !this.root.querySelector('.group'); }

    add(item, group) {
      let g = group || (this.current && this.current.el.isConnected ? this.current : null) || this.groups()[0];
      if (!g) { g = new Group(this); this.root.append(g.el); }
      this.current = g;
      g.add(item);
      this.changed();
      return g;
    }
    // Put `item` in a new group beside (row) or below (col) the group it is in (or `beside`'s group).
    split(item, dir, beside) {
      const anchor = (beside && beside.group) || item.group;
      if (!anchor) { this.add(item); return; }
      if (item.group === anchor && anchor.items.length === 1 && !beside) return;   // nothing to split off
      if (item.group) item.group.drop(item);
      const g = new Group(this);
      const parent = anchor.el.parentElement;
      if (parent.classList.contains('split') && parent.classList.contains(dir)) {
        anchor.el.after(this.gutter(dir), g.el);
      } else {
        const split = el('div', `split ${dir}`);
        anchor.el.replaceWith(split);
        split.append(anchor.el, this.gutter(dir), g.el);
      }
      this.tidy();
      g.add(item);
      this.current = g;
      this.changed();
      return g;
    }
    remove(item) {
      const g = item.group;
      item.head.remove(); item.pane.remove();
      if (g) { g.drop(item); if (!g.items.length) this.removeGroup(g); }
      this.changed();
    }
    removeGroup(g) {
      const prev = g.el.previousElementSibling, next = g.el.nextElementSibling;
      if (prev && prev.classList.contains('gutter')) prev.remove();
      else if (next && next.classList.contains('gutter')) next.remove();
      g.el.remove();
      if (this.current === g) this.current = this.groups()[0] || null;
      this.tidy();
    }
    // A split left with one child is replaced by that child.
    tidy() {
      for (const split of [...this.root.querySelectorAll('.split')].reverse()) {
        const kids = [...split.children].filter((n) => !n.classList.contains('gutter'));
        if (kids.length === 1) { kids[0].style.flexGrow = split.style.flexGrow; split.replaceWith(kids[0]); }
        if (kids.length === 0) split.remove();
      }
    }
    gutter(dir) {
      const g = el('div', `gutter ${dir}`);
      g.setAttribute('role', 'separator');
      g.setAttribute('aria-orientation', dir === 'row' ? 'vertical' : 'horizontal');
      g.addEventListener('pointerdown', (e) => this.drag(e, g, dir));
      return g;
    }
    drag(e, gutter, dir) {
      const a = gutter.previousElementSibling, b = gutter.nextElementSibling;
      if (!a || !b) return;
      e.preventDefault();
      gutter.setPointerCapture(e.pointerId);
      const horiz = dir === 'row';
      const size = (n) => (horiz ? n.getBoundingClientRect().width : n.getBoundingClientRect().height);
      const start = horiz ? e.clientX : e.clientY, sa = size(a), sb = size(b);
      const move = (ev) => {
        const d = Math.max(-sa + 60, Math.min(sb - 60, (horiz ? ev.clientX : ev.clientY) - start));
        a.style.flexGrow = String(sa + d); b.style.flexGrow = String(sb - d);
      };
      const up = () => {
        gutter.removeEventListener('pointermove', move);
        gutter.removeEventListener('pointerup', up);
        this.changed();
      };
      gutter.addEventListener('pointermove', move);
      gutter.addEventListener('pointerup', up);
    }
    changed() { this.onChange(this); }

    // The shape to remember: splits with their weights, groups with their items' keys.
    save(node = this.root.firstElementChild) {
      if (!node) return null;
      const grow = Number(node.style.flexGrow) || 1;
      if (node.classList.contains('split')) {
        return { split: node.classList.contains('row') ? 'row' : 'col', grow,
          children: [...node.children].filter((n) => !n.classList.contains('gutter')).map((n) => this.save(n)) };
      }
      const g = node.group;
      return { grow, items: g.items.map((i) => i.key).filter(Boolean), shown: g.shown && g.shown.key };
    }
    // Rebuild a saved shape; `make(key)` returns the item for a key, or null when it is gone.
    restore(shape, make) {
      const build = (s) => {
        if (!s) return null;
        if (s.split) {
          const kids = (s.children || []).map(build).filter(Boolean);
          if (!kids.length) return null;
          if (kids.length === 1) { kids[0].style.flexGrow = String(s.grow || 1); return kids[0]; }
          const split = el('div', `split ${s.split === 'col' ? 'col' : 'row'}`);
          split.style.flexGrow = String(s.grow || 1);
          kids.forEach((k, i) => { if (i) split.append(this.gutter(s.split === 'col' ? 'col' : 'row')); split.append(k); });
          return split;
        }
        const items = (s.items || []).map(make).filter(Boolean);
        if (!items.length) return null;
        const g = new Group(this);
        g.el.style.flexGrow = String(s.grow || 1);
        for (const i of items) g.add(i);
        const shown = items.find((i) => i.key === s.shown);
        if (shown) g.show(shown);
        return g.el;
      };
      const node = build(shape);
      if (node) { this.root.append(node); this.current = this.groups()[0]; }
      this.changed();
    }
  }
  window.KwsLayout = Layout;
})();
