import { Controller, Get, Inject, Res } from '@nestjs/common';
import type { Response } from 'express';
import { BFF_BACKEND, BffConfig, PAGES } from '@cloakroom/bff';
import type { BffBackend } from '@cloakroom/bff';
import { SealedStore } from '@cloakroom/sealed-store';
import { demoPagePolicy, renderDemoPage } from './demo-page.html.js';

/** The demo page: plain HTML and one inline script, talking only to the gateway's own endpoints. */
@Controller()
export class DemoPageController {
  private readonly storeName: string;
  /** The proxied route prefixes, for the page's hop measurements (HTML-escaped: an attribute value). */
  private readonly routes: string;
  private readonly policy: string;

  constructor(
    @Inject(SealedStore) private readonly store: SealedStore,
    @Inject(BFF_BACKEND) backend: BffBackend,
    @Inject(BffConfig) config: BffConfig,
  ) {
    this.storeName = backend.description;
    this.routes = config.routes
      .map((route) => route.prefix)
      .join(' ')
      .replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
    // Browsers meet the sign-in server at ISSUER_URL (ISSUER_INTERNAL_URL is the gateway's own way there).
    this.policy = demoPagePolicy(new URL(config.ISSUER_URL).origin);
  }

  /** 503 while the session store is away: nobody can sign in or stay signed in, and the page says so. */
  @Get()
  async page(@Res() res: Response): Promise<void> {
    const available = await this.store.ping().then(
      () => true,
      () => false,
    );
    res.status(available ? 200 : 503).set({
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'content-security-policy': this.policy,
    });
    res.send(
      renderDemoPage({
        store: this.storeName,
        storeState: available ? 'available' : 'unavailable',
        who: available ? 'Checking the session…' : PAGES.storeUnavailable.sentence,
        routes: this.routes,
      }),
    );
  }
}
