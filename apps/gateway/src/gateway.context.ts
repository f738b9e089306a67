import type { BffSessions } from '@cloakroom/bff-session';
import type { GracefulShutdown } from '@cloakroom/config';
import type { SealedStore } from '@cloakroom/sealed-store';
import type { AuthService } from './auth.service.js';
import type { GatewayConfig } from './gateway.config.js';
import type { GatewayMetrics } from './gateway.metrics.js';
import type { OidcClient } from './oidc.client.js';
import type { SessionCookies } from './session.cookie.js';

/** Everything the controllers use, composed once in bootstrap (the injection token is the class). */
export abstract class GatewayContext {
  abstract readonly config: GatewayConfig;
  abstract readonly store: SealedStore;
  abstract readonly sessions: BffSessions;
  abstract readonly oidc: OidcClient;
  abstract readonly auth: AuthService;
  abstract readonly cookies: SessionCookies;
  abstract readonly metrics: GatewayMetrics;
  abstract readonly shutdown: GracefulShutdown;
}
