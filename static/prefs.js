// Per-user preferences in this browser (localStorage, keyed by the user name), and per-tab state
// (sessionStorage). Loaded first: every other console module reads from here.
(() => {
  'use strict';
  const user = document.documentElement.dataset.user || '';
  const KEY = `kws.prefs.${user}`;
  let prefs = {};
  try { prefs = JSON.parse(localStorage.getItem(KEY) || '{}') || {}; } catch (e) { prefs = {}; }
  const listeners = [];
  window.kwsPrefs = {
    get(name, fallback) { return Object.prototype.hasOwnProperty.call(prefs, name) ? prefs[name] : fallback; },
    set(name, value) {
      prefs[name] = value;
      try { localStorage.setItem(KEY, JSON.stringify(prefs)); } catch (e) { /* private mode: keep in memory */ }
      for (const f of listeners) f(name, value);
    },
    onChange(f) { listeners.push(f); },
    tab: {
      get(name, fallback) {
        try { const v = sessionStorage.getItem(`kws.${name}`); return v === null ? fallback : JSON.parse(v); } catch (e) { return fallback; }
      },
      set(name, value) { sessionStorage.setItem(`kws.${name}`, JSON.stringify(value)); },
    },
  };
})();
