// Set the page's theme before it paints: the user's choice in this browser, else the system's.
(() => {
  'use strict';
  let theme = 'system';
  try {
    const prefs = JSON.parse(localStorage.getItem(`kws.prefs.${document.documentElement.dataset.user || ''}`) || '{}');
    theme = (prefs.settings && prefs.settings.theme) || 'system';
  } catch (e) { /* no storage: follow the system */ }
  if (theme === 'system') theme = matchMedia('(prefers-color-scheme: light)').matches ? 'light' : 'dark';
  document.documentElement.dataset.theme = theme;
})();
