// Admin pages: a form with data-confirm asks before it is sent (Terminate ends someone's shell).
(() => {
  'use strict';
  document.addEventListener('submit', (e) => {
    const text = e.target.dataset && e.target.dataset.confirm;
    if (text && !window.confirm(text)) e.preventDefault();
  });
})();
