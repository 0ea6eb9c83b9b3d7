// kube-webshell terminal look: fonts (with a CJK fallback), themes and the user's settings. Loaded before console.js.
(() => {
  'use strict';
  const prefs = window.kwsPrefs;
  const FONT = '"DejaVu Sans Mono", Menlo, Consolas, "Noto Sans Mono CJK SC", "Source Han Mono SC", '
    + '"Sarasa Mono SC", "WenQuanYi Zen Hei Mono", "WenQuanYi Micro Hei Mono", "Microsoft YaHei", "PingFang SC", monospace';
  const DEFAULTS = { theme: 'system', fontSize: 14, fontFamily: FONT, scrollback: 5000 };
  const settings = () => ({ ...DEFAULTS, ...prefs.get('settings', {}) });
  const dark = () => {
    const th = settings().theme;
    return th === 'dark' || (th === 'system' && !matchMedia('(prefers-color-scheme: light)').matches);
  };
  const THEMES = {
    dark: { background: '#1e1e1e', foreground: '#d4d4d4', cursor: '#d4d4d4', selectionBackground: '#264f78' },
    light: { background: '#ffffff', foreground: '#1e1e1e', cursor: '#1e1e1e', selectionBackground: '#add6ff',
      black: '#000000', white: '#6e6e6e', brightWhite: '#3a3a3a', yellow: '#8a6d00', brightYellow: '#7a5c00' },
  };
  function termOptions() {
    const s = settings();
    const family = s.fontFamily && s.fontFamily !== FONT ? `${s.fontFamily}, ${FONT}` : FONT;   // CJK fallback kept
    return { fontSize: Number(s.fontSize) || 14, fontFamily: family, scrollback: Number(s.scrollback) || 5000,
      theme: THEMES[dark() ? 'dark' : 'light'] };
  }
  window.kwsLook = { FONT, DEFAULTS, THEMES, settings, dark, termOptions };
})();
