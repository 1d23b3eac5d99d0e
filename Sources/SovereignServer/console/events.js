// GET /v1/events read with fetch (EventSource cannot send an Authorization header), parsed as the
// Server-Sent Events format says, and resumed with Last-Event-ID after every disconnection.

import { token } from "./api.js";

export class LiveEvents {
  constructor(onEvent, onStatus) {
    this.onEvent = onEvent;
    this.onStatus = onStatus;
    this.lastId = null;
    this.retry = 2000;
    this.controller = null;
  }

  start() {
    this.stopped = false;
    this.loop();
  }

  stop() {
    this.stopped = true;
    this.controller?.abort();
  }

  async loop() {
    while (!this.stopped) {
      try {
        await this.read();
      } catch (error) {
        if (this.stopped) return;
        this.onStatus(`reconnecting (${error.message})`);
      }
      if (this.stopped) return;
      await new Promise((resolve) => setTimeout(resolve, this.retry));
    }
  }

  async read() {
    this.controller = new AbortController();
    const headers = { Authorization: `Bearer ${token.get()}`, Accept: "text/event-stream" };
    if (this.lastId) headers["Last-Event-ID"] = this.lastId;
    const response = await fetch("/v1/events", { headers, signal: this.controller.signal, cache: "no-store" });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    this.onStatus("live");
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    let event = { data: [] };
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      const lines = buffer.split(/\r\n|\r|\n/);
      buffer = lines.pop();
      for (const line of lines) event = this.line(line, event);
    }
    this.onStatus("reconnecting");
  }

  // One line of the stream; a blank line dispatches the event gathered so far.
  line(line, event) {
    if (line === "") {
      if (event.data.length > 0) this.dispatch(event);
      return { data: [] };
    }
    if (line.startsWith(":")) return event;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") event.data.push(value);
    else if (field === "event") event.name = value;
    else if (field === "id") event.id = value;
    else if (field === "retry" && /^\d+$/.test(value)) this.retry = Number(value);
    return event;
  }

  dispatch(event) {
    if (event.id) this.lastId = event.id;
    let data = null;
    try { data = JSON.parse(event.data.join("\n")); } catch { return; }
    this.onEvent(event.name ?? "message", data, performance.now());
  }
}
