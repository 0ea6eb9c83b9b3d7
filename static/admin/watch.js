// Read-only view of a live terminal for admins: output in, nothing out.
(function () {
  "use strict";
  const host = document.getElementById("watch");
  const status = document.getElementById("watch-status");
  const sessionId = host.dataset.session;
  const term = new Terminal({ disableStdin: true, cursorBlink: false, convertEol: false, scrollback: 5000 });
  term.open(host);

  function setStatus(text, cls) {
    status.textContent = text;
    status.className = "status " + cls;
  }
  const bytes = (d) => (d instanceof ArrayBuffer ? new Uint8Array(d) : typeof d === "string" ? d : new Uint8Array(d));

  const socket = io("/terminal", { transports: ["websocket"] });
  socket.on("connect", () => {
    socket.emit("watch", { session: sessionId }, (ack) => {
      if (!ack || !ack.ok) {
        setStatus((ack && ack.error && ack.error.message) || "cannot watch", "exited");
        return;
      }
      const m = ack.meta || {};
      document.getElementById("watch-title").textContent = `${m.user}@${m.cluster}/${m.namespace}/${m.pod}/${m.container}`;
      if (m.cols && m.rows) term.resize(m.cols, m.rows);
      term.write(bytes(ack.replay));
      setStatus("live", "");
    });
  });
  socket.on("output", (msg) => { if (msg.session === sessionId) term.write(bytes(msg.data)); });
  socket.on("watch_resize", (msg) => { if (msg.session === sessionId) term.resize(msg.cols, msg.rows); });
  socket.on("exit", (msg) => { if (msg.session === sessionId) setStatus("ended: " + msg.reason, "exited"); });
  socket.on("disconnect", () => setStatus("disconnected", "exited"));
  window.kwsWatch = { term, socket };
})();
