// Admin pages: a form with data-confirm asks before it is sent (Terminate ends someone's shell).
(() => {
  'use strict';
  document.addEventListener('submit', (e) => {
    const text = e.target.dataset && e.target.dataset.confirm;
    if (text && !window.confirm(text)) e.preventDefault();
  });
})();
// A page with a [data-live-page="N"] marker reloads its <main> from the server every N seconds
// (the live sessions page), while the page is visible.
(() => {
  'use strict';
  const marker = document.querySelector('[data-live-page]');
  if (!marker) return;
  setInterval(async () => {
    if (document.hidden) return;
    // Never while the admin is typing a reason or has one ready: a refresh would throw it away.
    const busy = () => [...document.querySelectorAll('main input:not([type=hidden])')]
      .some((i) => i.value || i === document.activeElement);
    if (busy()) return;
    const r = await fetch(location.href, { credentials: 'same-origin' }).catch(() => null);
    if (!r || !r.ok) return;
    const doc = new DOMParser().parseFromString(await r.text(), 'text/html');
    const main = document.querySelector('main'), fresh = doc.querySelector('main');
    if (busy()) return;
    if (main && fresh && fresh.innerHTML !== main.innerHTML) main.replaceChildren(...fresh.childNodes);
  }, (Number(marker.dataset.livePage) || 5) * 1000);
})();
