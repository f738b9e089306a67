import type { EventEmitter } from 'node:events';
import type Provider from 'oidc-provider';
import type { KeysInService, SigningKeyRing } from '../keys/signing-key.ring.js';

type Callback = ReturnType<Provider['callback']>;
type Listener = (...args: unknown[]) => void;

/**
 * The oidc-provider instance serving the keys in service. oidc-provider 9 takes its keys once, in its constructor:
 * the keystore it signs with and the JWKS it publishes are private to the instance and fixed for its life (no API
 * adds, removes or reorders a key; it signs with the first key of the algorithm it needs). So when the keys
 * change (a rewritten file, an activation time reached) the next request gets a new instance built on the new
 * keys. Nothing is lost: what a provider keeps between requests lives in the store (sessions, interactions,
 * grants, tokens) or comes from the same configuration (clients, cookie keys), so a flow begun on one instance
 * goes on with the next, and a request already running finishes on its own. Event listeners (logs, metrics)
 * follow the provider to its successor. Should oidc-provider refuse keys that the file's checks accepted, the
 * instance serving stays rather than every request failing.
 */
export class ProviderSwitch {
  private serving?: { keys: KeysInService; provider: Provider; callback: Callback };
  /** Keys oidc-provider refused: not tried again at every request. */
  private refused?: KeysInService;

  constructor(
    private readonly ring: SigningKeyRing,
    private readonly build: (keys: KeysInService) => Provider,
    /** oidc-provider refused keys the file's checks accepted: the instance serving goes on serving. */
    private readonly onRefused: (error: Error) => void = () => undefined,
  ) {}

  /** The instance for the keys in service now. */
  get current(): Provider {
    return this.now().provider;
  }

  /** Its request handler (Node's `(req, res)`). */
  get callback(): Callback {
    return this.now().callback;
  }

  private now() {
    const keys = this.ring.current;
    if (this.serving?.keys !== keys && !(this.serving && this.refused === keys)) {
      let provider: Provider;
      try {
        provider = this.build(keys);
      } catch (error) {
        if (!this.serving) throw error;
        this.refused = keys;
        this.onRefused(error as Error);
        return this.serving;
      }
      // Typed by oidc-provider for its own events only; any listener is carried.
      const [next, previous] = [provider, this.serving?.provider] as unknown as [EventEmitter, EventEmitter?];
      for (const event of previous?.eventNames() ?? []) {
        for (const raw of previous!.rawListeners(event) as Array<Listener & { listener?: Listener }>) {
          // A `once` listener is wrapped by the emitter it was added to: added unwrapped, once again.
          if (raw.listener) next.once(event, raw.listener);
          else next.on(event, raw);
        }
      }
      this.serving = { keys, provider, callback: provider.callback() };
    }
    return this.serving;
  }
}
