// The WebSocket to the server: JSON messages out, JSON and binary frames in.

/**
 * Open the playground's socket at ws(s)://host/ws.
 * @param {{onMessage: function(object), onFrame: function(ArrayBuffer), onClose: function(CloseEvent)}} handlers
 * @returns {{send: function(object): boolean, isOpen: function(): boolean, close: function()}}
 */
export function connect({ onMessage, onFrame, onClose, onOpen }) {
  const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
  const ws = new WebSocket(`${scheme}//${window.location.host}/ws`);
  ws.binaryType = "arraybuffer";
  ws.addEventListener("open", () => onOpen && onOpen());
  ws.addEventListener("message", (event) => {
    if (event.data instanceof ArrayBuffer) {
      onFrame(event.data);
      return;
    }
    let msg;
    try {
      msg = JSON.parse(event.data);
    } catch {
      return; // the server only sends JSON objects; ignore anything else
    }
    if (msg && typeof msg === "object") onMessage(msg);
  });
  ws.addEventListener("close", (event) => onClose && onClose(event));
  return {
    send(message) {
      if (ws.readyState !== WebSocket.OPEN) return false;
      ws.send(JSON.stringify(message));
      return true;
    },
    isOpen: () => ws.readyState === WebSocket.OPEN,
    close: () => ws.close(),
  };
}
