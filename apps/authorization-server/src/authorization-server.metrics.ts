import { Counter, Registry } from 'prom-client';

/**
 * The authorization server's own metrics, on the app's registry beside the `cloakroom_http_*` and
 * `cloakroom_store_*` ones of `@cloakroom/ops`. Labels never carry secrets: only fixed vocabularies.
 */
export class AuthorizationServerMetrics {
  readonly tokensIssued: Counter<'type'>;
  readonly loginFailures: Counter<'reason'>;
  readonly oversizedTokens: Counter<'type' | 'resource'>;

  constructor(readonly registry: Registry = new Registry()) {
    this.tokensIssued = new Counter({
      name: 'cloakroom_authorization_server_tokens_issued_total',
      help: 'Tokens and codes issued, by type.',
      labelNames: ['type'] as const,
      registers: [registry],
    });
    this.loginFailures = new Counter({
      name: 'cloakroom_authorization_server_login_failures_total',
      help: 'Refused sign-ins, by reason (wrong credentials, throttled, bad form).',
      labelNames: ['reason'] as const,
      registers: [registry],
    });
    this.oversizedTokens = new Counter({
      name: 'cloakroom_authorization_server_oversized_tokens_total',
      help: 'ID tokens larger than TOKEN_SIZE_BUDGET_BYTES, and access tokens whose claims had to leave them to stay under their resource budget (label resource).',
      labelNames: ['type', 'resource'] as const,
      registers: [registry],
    });
  }
}
