// /ws/im/ live events: resume by event id after a drop; "resync_required" asks the page to reload.

import { config } from "./i18n.js";

export class LiveEvents {
  constructor({ onEvent, onResync, onState }) {
    this.onEvent = onEvent;
    this.onResync = onResync;
    this.onState = onState;
    this.lastId = null;
    this.attempt = 0;
    this.socket = null;
    this.state = "connecting";
  }

  connect() {
    const scheme = window.location.protocol === "https:" ? "wss" : "ws";
    const query = this.lastId === null ? "" : `?last_event_id=${this.lastId}`;
    const socket = new WebSocket(`${scheme}://${window.location.host}${config.ws}${query}`);
    this.socket = socket;
    socket.addEventListener("message", (message) => this.receive(JSON.parse(message.data)));
    socket.addEventListener("close", (event) => this.dropped(socket, event));
  }

  receive(event) {
    if (event.type === "ready") {
      const resumed = this.lastId !== null;
      this.lastId = event.last_event_id;
      this.attempt = 0;
      this.setState("live", { resumed });
    } else if (event.type === "resync_required") {
      this.onResync();
    } else if (typeof event.event_id === "number") {
      this.lastId = event.event_id;
      this.onEvent(event);
    }
  }

  dropped(socket, event) {
    if (socket !== this.socket) return;
    if (event.code === 4401) {
      window.location.assign("/inbox/login/");
      return;
    }
    this.setState("reconnecting");
    const delay = Math.min(5000, 300 * 2 ** this.attempt) * (0.75 + Math.random() / 2);
    this.attempt += 1;
    window.setTimeout(() => this.connect(), delay);
  }

  setState(state, detail = {}) {
    this.state = state;
    this.onState(state, detail);
  }
}
