import { INVALIDATE_ALL } from '../coordination/invalidation.bus.js';
import type { InvalidationBus } from '../coordination/invalidation.bus.js';
import type { BffSessions } from '../session/bff-sessions.js';

interface OpenSocket {
  ticket: string;
  resource: string | undefined;
  sidKey: string;
  subKey: string;
  close(): void;
}

/**
 * The WebSockets open through this instance, each with its session. The upstream checked the token once, at the
 * handshake; when an invalidation names a session (logout, back-channel logout, refresh, on any instance) its sockets
 * ask for it again and close if it is gone. An unreachable store leaves them open: an outage is not a logout.
 */
export class WebSocketSessions {
  private readonly open = new Set<OpenSocket>();

  constructor(
    private readonly sessions: BffSessions,
    bus: InvalidationBus,
  ) {
    bus.onMessage((message) => this.onInvalidation(message));
  }

  /** Tracks a socket until the function given back is called. */
  add(socket: OpenSocket): () => void {
    this.open.add(socket);
    return () => this.open.delete(socket);
  }

  /** Closes them all (the gateway is shutting down: the HTTP server would wait for them forever). */
  closeAll(): void {
    for (const socket of this.open) socket.close();
    this.open.clear();
  }

  private onInvalidation(message: string): void {
    for (const socket of this.open) {
      // `s:` names a slot, which only the session store can map to a ticket: those sockets all ask.
      if (message.startsWith('sid:') && socket.sidKey !== message.slice(4)) continue;
      if (message.startsWith('sub:') && socket.subKey !== message.slice(4)) continue;
      if (message !== INVALIDATE_ALL && !/^(s|sid|sub):/.test(message)) continue;
      this.sessions.authorize(socket.ticket, socket.resource).then(
        (session) => (session === undefined ? socket.close() : undefined),
        () => undefined,
      );
    }
  }
}
