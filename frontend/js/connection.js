// The only module that touches WebSocket. Decodes every message with
// protocol.js and hands it to the handlers; reconnects with backoff.
// `first` (optional) gives the messages to send first on every (re)connect,
// before anything queued: the owner token travels in an `auth` message,
// never in the URL, where access logs and proxies would keep it.
import { decodeFrame } from "./protocol.js";

export function connect(url, { onMessage, onOpen, onClose, onError, first }) {
  let ws = null;
  let closed = false;
  let retry = 0;
  let queue = [];
  function open() {
    ws = new WebSocket(url);
    ws.binaryType = "arraybuffer";
    ws.onopen = () => {
      retry = 0;
      for (const m of first?.() ?? []) ws.send(m);
      onOpen?.();
      for (const m of queue) ws.send(m);
      queue = [];
    };
    ws.onmessage = (e) => {
      let msg;
      try { msg = decodeFrame(e.data); } catch (err) { onError?.(err); return; }
      onMessage(msg);
    };
    ws.onclose = (e) => {
      onClose?.(e);
      // 1008: unknown session; never retry that.
      if (closed || e.code === 1008) return;
      retry = Math.min(retry + 1, 6);
      setTimeout(open, 200 * 2 ** retry);
    };
  }
  open();
  return {
    send(text) {
      if (ws && ws.readyState === WebSocket.OPEN) ws.send(text);
      else queue.push(text);
    },
    close() { closed = true; ws?.close(); },
  };
}
