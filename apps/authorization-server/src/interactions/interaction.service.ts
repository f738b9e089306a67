import { Inject, Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import type Provider from 'oidc-provider';
import type { InteractionResults, PromptDetail } from 'oidc-provider';
import { AuthorizationServerConfig } from '../authorization-server.config.js';
import { ClientPolicies } from '../oidc/client-policies.js';
import { ProviderSwitch } from '../oidc/provider.switch.js';
import { AuthorizationServerMetrics } from '../authorization-server.metrics.js';
import { csrfValid, issueCsrfToken } from './csrf.js';
import { CsrfRejected, FormInvalid } from './interaction.errors.js';
import { consentPage, loginPage } from './pages.js';

/** Checks a username and password; throws LoginRefused or LoginThrottled. */
export abstract class Authenticator {
  abstract authenticate(username: string, password: string, ip: string): Promise<string>;
}

/** What the sign-in form sends. */
interface LoginForm {
  username: string;
  password: string;
}

/** The interaction steps oidc-provider hands over: sign-in and consent. */
@Injectable()
export class InteractionService {
  private readonly issuerOrigin: string;
  private readonly secure: boolean;

  constructor(
    @Inject(ProviderSwitch) private readonly providers: ProviderSwitch,
    @Inject(AuthorizationServerConfig) private readonly config: AuthorizationServerConfig,
    @Inject(ClientPolicies) private readonly policies: ClientPolicies,
    @Inject(Authenticator) private readonly authenticator: Authenticator,
    @Inject(AuthorizationServerMetrics) private readonly metrics: AuthorizationServerMetrics,
  ) {
    this.issuerOrigin = new URL(config.ISSUER).origin;
    this.secure = config.ISSUER.startsWith('https://');
  }

  /** The instance serving now; any one continues an interaction begun on another (its state is in the store). */
  private get provider(): Provider {
    return this.providers.current;
  }

  async show(req: Request, res: Response): Promise<void> {
    const details = await this.provider.interactionDetails(req, res);
    const clientId = String(details.params.client_id);
    if (details.prompt.name === 'login') {
      return this.renderLogin(req, res, details.uid, clientId, 200);
    }
    if (details.prompt.name === 'consent') {
      if (this.policies.isFirstParty(clientId)) return this.finishConsent(req, res);
      const csrf = issueCsrfToken(req, res, this.secure);
      const missing = details.prompt.details as PromptDetail['details'] & {
        missingOIDCScope?: string[];
        missingResourceScopes?: Record<string, string[]>;
      };
      const resourceScopes = Object.values(missing.missingResourceScopes ?? {}).flat();
      res.type('html').send(
        consentPage({
          appName: this.config.APP_NAME,
          clientName: await this.clientName(clientId),
          action: `/interaction/${details.uid}/confirm`,
          abortAction: `/interaction/${details.uid}/abort`,
          csrf,
          scopes: [...(missing.missingOIDCScope ?? []), ...resourceScopes],
          resources: Object.keys(missing.missingResourceScopes ?? {}),
        }),
      );
      return;
    }
    throw new FormInvalid(`unsupported prompt ${details.prompt.name}`);
  }

  async login(req: Request, res: Response, body: unknown): Promise<void> {
    this.checkCsrf(req, body);
    const details = await this.provider.interactionDetails(req, res);
    if (details.prompt.name !== 'login') throw new FormInvalid('this sign-in step is already complete');
    const clientId = String(details.params.client_id);
    const form = readLoginForm(body);
    if (!form) {
      this.metrics.loginFailures.inc({ reason: 'bad_form' });
      return this.renderLogin(req, res, details.uid, clientId, 400, 'Enter your username and password.');
    }
    try {
      const accountId = await this.authenticator.authenticate(form.username, form.password, req.ip ?? '');
      await this.finish(req, res, { login: { accountId } });
    } catch (error) {
      const name = (error as Error).name;
      if (name === 'LoginThrottled') {
        this.metrics.loginFailures.inc({ reason: 'throttled' });
        const retryAfter = (error as { retryAfterSeconds?: number }).retryAfterSeconds ?? 60;
        res.setHeader('Retry-After', String(retryAfter));
        const message = 'Too many attempts. Wait a few minutes, then try again.';
        return this.renderLogin(req, res, details.uid, clientId, 429, message, form.username);
      }
      if (name === 'LoginRefused') {
        this.metrics.loginFailures.inc({ reason: 'wrong_credentials' });
        const message = 'Wrong username or password.';
        return this.renderLogin(req, res, details.uid, clientId, 401, message, form.username);
      }
      throw error;
    }
  }

  async confirm(req: Request, res: Response, body: unknown): Promise<void> {
    this.checkCsrf(req, body);
    await this.finishConsent(req, res);
  }

  async abort(req: Request, res: Response, body: unknown): Promise<void> {
    this.checkCsrf(req, body);
    await this.finish(req, res, { error: 'access_denied', error_description: 'the user denied the request' });
  }

  /** Grants what the client asked for: first-party clients skip the page, others after "Allow". */
  private async finishConsent(req: Request, res: Response): Promise<void> {
    const details = await this.provider.interactionDetails(req, res);
    if (details.prompt.name !== 'consent' || !details.session) throw new FormInvalid('nothing to consent to');
    const missing = details.prompt.details as {
      missingOIDCScope?: string[];
      missingOIDCClaims?: string[];
      missingResourceScopes?: Record<string, string[]>;
    };
    const clientId = String(details.params.client_id);
    const grant = details.grantId
      ? await this.provider.Grant.find(details.grantId)
      : new this.provider.Grant({ accountId: details.session.accountId, clientId });
    if (!grant) throw new FormInvalid('the grant of this request is gone; start again');
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
    const grantId = await grant.save();
    await this.finish(req, res, { consent: { grantId } });
  }

  private async finish(req: Request, res: Response, result: InteractionResults): Promise<void> {
    await this.provider.interactionFinished(req, res, result, { mergeWithLastSubmission: true });
  }

  private async renderLogin(
    req: Request,
    res: Response,
    uid: string,
    clientId: string,
    status: number,
    error?: string,
    username?: string,
  ): Promise<void> {
    const csrf = issueCsrfToken(req, res, this.secure);
    res
      .status(status)
      .type('html')
      .send(
        loginPage({
          appName: this.config.APP_NAME,
          clientName: await this.clientName(clientId),
          action: `/interaction/${uid}/login`,
          csrf,
          error,
          username,
        }),
      );
  }

  private async clientName(clientId: string): Promise<string> {
    const client = await this.provider.Client.find(clientId);
    return client?.clientName ?? clientId;
  }

  private checkCsrf(req: Request, body: unknown): void {
    const submitted = (body as Record<string, unknown> | undefined)?.csrf;
    if (!csrfValid(req, submitted, this.issuerOrigin)) throw new CsrfRejected();
  }
}

function readLoginForm(body: unknown): LoginForm | undefined {
  const { username, password } = (body ?? {}) as Record<string, unknown>;
  if (typeof username !== 'string' || typeof password !== 'string') return undefined;
  const trimmed = username.trim();
  if (trimmed.length === 0 || trimmed.length > 256 || password.length === 0 || password.length > 1024) {
    return undefined;
  }
  return { username: trimmed, password };
}
