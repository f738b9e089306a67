/**
 * Where an API reaches its issuer. Tokens name the public issuer (ISSUER_URL), and its discovery document
 * names endpoints there; inside a container network the same server answers at another origin
 * (ISSUER_INTERNAL_URL). Requests go to that origin; every check on what a token says stays on the public one.
 */
export class IssuerAddress {
  /** The discovery document (OpenID Connect Discovery §4), at the address this API reaches. */
  readonly discovery: URL;
  private readonly issuerOrigin: string;
  private readonly internal?: URL;

  constructor(issuerUrl: string, internalUrl?: string) {
    this.issuerOrigin = new URL(issuerUrl).origin;
    if (internalUrl) this.internal = new URL(internalUrl);
    this.discovery = this.reach(`${issuerUrl.replace(/\/$/, '')}/.well-known/openid-configuration`);
  }

  /** True when `url` is at the public issuer's own origin. */
  isIssuerOrigin(url: URL): boolean {
    return url.origin === this.issuerOrigin;
  }

  /** `url` at the internal origin when it is at the issuer's; any other URL as it is. */
  reach(url: string | URL): URL {
    const target = new URL(url);
    if (!this.internal || !this.isIssuerOrigin(target)) return target;
    target.protocol = this.internal.protocol;
    target.host = this.internal.host;
    return target;
  }
}
