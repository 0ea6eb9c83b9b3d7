// kube-webshell's JS catalog: the page carries the strings of its language (from js.po, chosen by the
// server from Accept-Language or the user's choice); T(msgid, {name}) looks one up and fills it in.
(() => {
  'use strict';
  let catalog = {};
  try { catalog = JSON.parse(document.getElementById('kws-i18n').textContent || '{}'); } catch (e) { catalog = {}; }
  window.kwsT = (text, vars) => (catalog[text] || text).replace(/\{(\w+)\}/g, (m, k) => (vars && k in vars ? vars[k] : m));
  window.kwsLang = document.documentElement.lang || 'en';
  // The language picker submits itself (no inline scripts under the CSP).
  document.addEventListener('change', (e) => {
    if (e.target && e.target.matches && e.target.matches('.lang-form select')) e.target.form.submit();
  });
})();
