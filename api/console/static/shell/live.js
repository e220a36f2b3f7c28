// The one EventSource on /api/v1/alerts/stream while a user who may read alerts is signed in.
//
// The browser resumes a dropped stream by itself, sending Last-Event-ID. When it gives up (the
// server answered an error, e.g. a restart's 503 or an expired session's 401), the shell is asked
// whether the session still holds (`stillSignedIn`) and opens a new stream with `?after=<last seq>`,
// waiting longer after each failure, so nothing is missed and a dead server is not hammered.

const STREAM = '/api/v1/alerts/stream';
const MAX_BACKOFF_MS = 30000;

export class AlertStream {
  /** onState('live'|'reconnecting'|'off'); stillSignedIn() -> Promise<bool>. */
  constructor({onState, stillSignedIn}) {
    this.onState = onState;
    this.stillSignedIn = stillSignedIn;
    this.listeners = new Set();
    this.source = null;
    this.lastSeq = null;
    this.backoffMs = 1000;
    this.timer = null;
    this.running = false;
  }

  start() {
    if (this.running) return;
    this.running = true;
    this.open();
  }

  stop() {
    this.running = false;
    clearTimeout(this.timer);
    this.source?.close();
    this.source = null;
    this.lastSeq = null;
    this.onState('off');
  }

  subscribe(callback) {
    this.listeners.add(callback);
    return () => this.listeners.delete(callback);
  }

  open() {
    const url = this.lastSeq === null ? STREAM : `${STREAM}?after=${this.lastSeq}`;
    const source = new EventSource(url);
    this.source = source;
    source.onopen = () => {
      this.backoffMs = 1000;
      this.onState('live');
    };
    source.onmessage = (message) => this.receive(message);
    source.onerror = () => {
      this.onState('reconnecting');
      if (source.readyState === EventSource.CLOSED) this.retryLater(source);
    };
  }

  receive(message) {
    let event;
    try {
      event = JSON.parse(message.data);
    } catch {
      return; // not an alert event: nothing to show
    }
    if (typeof event.seq === 'number') {
      this.lastSeq = this.lastSeq === null ? event.seq : Math.max(this.lastSeq, event.seq);
      performance.mark(`sse-event:${event.seq}`);
    }
    for (const callback of [...this.listeners]) {
      try {
        callback(event);
      } catch (err) {
        console.error('alert event listener failed', err);
      }
    }
  }

  retryLater(source) {
    source.close();
    if (this.source === source) this.source = null;
    clearTimeout(this.timer);
    this.timer = setTimeout(async () => {
      if (!this.running) return;
      let signedIn = true; // the server unreachable: keep trying
      try {
        signedIn = await this.stillSignedIn();
      } catch {
        // as above
      }
      if (!signedIn) return; // the shell has signed out, which stops us
      if (this.running && this.source === null) this.open();
    }, this.backoffMs);
    this.backoffMs = Math.min(this.backoffMs * 2, MAX_BACKOFF_MS);
  }
}
