// Replay an asciicast recording with asciinema-player (served from npm, no CDN).
(function () {
  "use strict";
  const el = document.getElementById("player");
  window.kwsPlayer = AsciinemaPlayer.create(el.dataset.src, el, {
    autoPlay: true, preload: true, fit: "width", idleTimeLimit: 2, terminalFontFamily: "monospace",
  });
})();
