// kube-webshell settings (theme, font, scrollback) kept per user in this browser, and the shortcuts help.
(() => {
  'use strict';
  const kws = window.kws, prefs = window.kwsPrefs;
  const $ = (id) => document.getElementById(id);
  const dialog = $('settings'), form = dialog.querySelector('form');

  function fill() {
    const s = kws.settings();
    form.theme.value = s.theme;
    form.fontSize.value = s.fontSize;
    form.fontFamily.value = s.fontFamily === kws.DEFAULTS.fontFamily ? '' : s.fontFamily;
    form.scrollback.value = s.scrollback;
  }
  function save() {
    const n = (v, lo, hi, d) => { const x = Math.round(Number(v)); return Number.isFinite(x) && x >= lo && x <= hi ? x : d; };
    const d = kws.DEFAULTS;
    prefs.set('settings', {
      theme: ['system', 'dark', 'light'].includes(form.theme.value) ? form.theme.value : 'system',
      fontSize: n(form.fontSize.value, 8, 32, d.fontSize),
      fontFamily: form.fontFamily.value.trim() || d.fontFamily,
      scrollback: n(form.scrollback.value, 100, 100000, d.scrollback),
    });
    kws.applySettings();
  }
  form.addEventListener('change', save);
  dialog.querySelector('.settings-reset').addEventListener('click', (e) => {
    e.preventDefault();
    prefs.set('settings', {});
    kws.applySettings();
    fill();
  });
  $('settings-btn').addEventListener('click', () => { fill(); dialog.showModal(); });
  $('help-btn').addEventListener('click', () => $('help').showModal());
  document.addEventListener('keydown', (e) => {
    if (e.key !== '?' || e.ctrlKey || e.altKey || e.metaKey) return;
    const t = e.target;
    if (t && (t.closest('.xterm') || ['INPUT', 'TEXTAREA', 'SELECT'].includes(t.tagName) || t.isContentEditable)) return;
    if (document.querySelector('dialog[open]')) return;
    e.preventDefault();
    $('help').showModal();
  });
  kws.openSettings = () => { fill(); dialog.showModal(); };
})();
