// kube-webshell pane helpers shared by the console's modules: a confirmation dialog and an error card
// (what went wrong, the next step, the server's words folded away). Loaded before console.js.
(() => {
  'use strict';
  const $ = (id) => document.getElementById(id);
  const T = (s) => (window.kwsT ? window.kwsT(s) : s);

  function confirmDialog(text, yes) {
    const d = $('confirm');
    d.querySelector('.confirm-text').textContent = text;
    d.querySelector('.confirm-yes').textContent = yes;
    d.returnValue = '';
    d.showModal();
    d.querySelector('.confirm-no').focus();
    return new Promise((resolve) => d.addEventListener('close', () => resolve(d.returnValue === 'yes'), { once: true }));
  }

  function errorCard({ what, next, detail }, retryText, retry) {
    const box = document.createElement('div');
    box.className = 'pane-error';
    box.setAttribute('role', 'alert');
    const h = document.createElement('h3');
    h.textContent = what;
    box.append(h);
    if (next) { const p = document.createElement('p'); p.className = 'next-step'; p.textContent = next; box.append(p); }
    if (detail) {
      const d = document.createElement('details'), s = document.createElement('summary');
      const text = document.createElement('span');
      text.className = 'detail';
      text.textContent = detail;
      s.textContent = T('Details'); d.append(s, text); box.append(d);
    }
    if (retry) {
      const again = document.createElement('button');
      again.type = 'button'; again.textContent = retryText;
      again.addEventListener('click', retry);
      box.append(again);
    }
    return box;
  }
  window.kwsPanes = { confirmDialog, errorCard };
})();
