import Provider, { errors } from 'oidc-provider';
import { TemporarilyUnavailable } from '@cloakroom/oidc-adapter';
import { StoreUnavailable } from '@cloakroom/sealed-store';
import type { SealedStore } from '@cloakroom/sealed-store';
import { FailureThrottle, Throttled } from '../throttle/failure.throttle.js';
import type { FailureThrottleSettings } from '../throttle/failure.throttle.js';

/** Too many wrong secrets for this client from this address: 429, with Retry-After. */
export class ClientAuthThrottled extends errors.OIDCProviderError {
  constructor(retryAfterSeconds: number) {
    super(429, 'invalid_client');
    Object.assign(this, {
      error_description: `too many failed client authentications from this address; retry in ${retryAfterSeconds} seconds`,
    });
  }
}

interface ClientWithSecret {
  clientId: string;
  compareClientSecret(actual: string): Promise<boolean>;
}

type CurrentContext = { ip: string; set(field: string, value: string): void } | undefined;

/**
 * Throttles client secrets (client_secret_basic and client_secret_post, at /token, introspection,
 * revocation …): per (client id, address) a lockout after too many wrong secrets, per client id a growing
 * delay before each wrong secret is answered. Only failures count and only failures wait, so a busy client
 * with the right secret is never slowed down, however many requests it makes at once. The one place
 * oidc-provider compares a secret is Client#compareClientSecret, so the throttle wraps that method of this
 * provider's Client class: it knows the client, and oidc-provider's request context knows the address.
 */
export function throttleClientAuthentication(
  provider: Provider,
  store: SealedStore,
  settings: FailureThrottleSettings,
): FailureThrottle {
  const throttle = new FailureThrottle(store, 'client-auth', settings);
  const prototype = provider.Client.prototype as unknown as ClientWithSecret;
  const compare = prototype.compareClientSecret;
  prototype.compareClientSecret = async function (this: ClientWithSecret, actual: string) {
    const ctx = (Provider as unknown as { ctx: CurrentContext }).ctx;
    const address = ctx?.ip ?? '';
    try {
      const failures = await throttle.check(this.clientId, address);
      const matches = await compare.call(this, actual);
      if (!matches) await throttle.failed(this.clientId, address);
      else if (failures > 0) await throttle.succeeded(this.clientId, address, false);
      return matches;
    } catch (error) {
      if (error instanceof Throttled) {
        ctx?.set('Retry-After', String(error.retryAfterSeconds));
        throw new ClientAuthThrottled(error.retryAfterSeconds);
      }
      if (error instanceof StoreUnavailable) throw new TemporarilyUnavailable(error);
      throw error;
    }
  };
  return throttle;
}
