import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import type { JWK, CryptoKey } from 'jose';

export interface FakeIssuerKey {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

/**
 * A stand-in issuer for resource-server tests: discovery, a JWKS the test rotates, an introspection endpoint
 * and a distributed claims endpoint whose answers and call counts the test controls. Real keys, real signatures.
 */
export class FakeIssuer {
  /** Where it listens. */
  url = '';
  /**
   * Its issuer identifier, and the origin of the endpoints its discovery names: `url` unless a test puts it
   * behind another address, as a container network does (the public URL outside, `url` inside).
   */
  publicUrl = '';
  keys: FakeIssuerKey[] = [];
  jwksFetches = 0;
  introspections = 0;
  claimsFetches = 0;
  /** Introspection answer per token; unknown tokens are inactive. */
  answers = new Map<string, Record<string, unknown>>();
  /** Distributed claims per bearer token, answered from `/claims` as a JWT of this issuer; unknown tokens: 401. */
  claims = new Map<string, Record<string, unknown>>();
  /** The `traceparent` of every request, by path (undefined: the request had none). */
  traceparents: Array<{ path: string; traceparent?: string }> = [];
  /** Delay before introspection answers, to let concurrent requests pile up. */
  introspectionDelayMs = 0;
  down = false;
  private server = createServer((req, res) => void this.handle(req, res));

  static async start(): Promise<FakeIssuer> {
    const issuer = new FakeIssuer();
    await new Promise<void>((resolve) => issuer.server.listen(0, '127.0.0.1', resolve));
    issuer.url = `http://127.0.0.1:${(issuer.server.address() as AddressInfo).port}`;
    issuer.publicUrl = issuer.url;
    await issuer.addKey('key-1');
    return issuer;
  }

  async addKey(kid: string): Promise<FakeIssuerKey> {
    const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
    const key = {
      kid,
      privateKey,
      publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' },
    };
    this.keys.unshift(key);
    return key;
  }

  /** A JWT access token signed with the newest key (or `key`), with sensible defaults for every claim. */
  async token(
    claims: Record<string, unknown> = {},
    key: FakeIssuerKey = this.keys[0],
    typ = 'at+jwt',
  ): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ scope: 'orders:read', client_id: 'gateway', ...claims })
      .setProtectedHeader({ alg: 'RS256', kid: key.kid, typ })
      .setIssuer((claims.iss as string) ?? this.publicUrl)
      .setAudience((claims.aud as string) ?? 'http://api.test')
      .setSubject((claims.sub as string) ?? 'alice')
      .setIssuedAt(now)
      .setExpirationTime((claims.exp as number) ?? now + 300)
      .sign(key.privateKey);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) {
    this.traceparents.push({
      path: req.url ?? '',
      traceparent: req.headers.traceparent as string | undefined,
    });
    if (this.down) {
      res.writeHead(503).end();
      return;
    }
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    if (req.url === '/.well-known/openid-configuration') {
      send(200, {
        issuer: this.publicUrl,
        jwks_uri: `${this.publicUrl}/jwks`,
        introspection_endpoint: `${this.publicUrl}/introspect`,
      });
    } else if (req.url === '/jwks') {
      this.jwksFetches++;
      send(200, { keys: this.keys.map((k) => k.publicJwk) });
    } else if (req.url === '/introspect' && req.method === 'POST') {
      this.introspections++;
      let body = '';
      for await (const chunk of req) body += String(chunk);
      const token = new URLSearchParams(body).get('token') ?? '';
      if (req.headers.authorization !== `Basic ${Buffer.from('rs:rs-secret').toString('base64')}`) {
        send(401, { error: 'invalid_client' });
        return;
      }
      if (this.introspectionDelayMs) await new Promise((r) => setTimeout(r, this.introspectionDelayMs));
      send(200, this.answers.get(token) ?? { active: false });
    } else if (req.url === '/claims') {
      this.claimsFetches++;
      const claims = this.claims.get(req.headers.authorization?.replace(/^Bearer /, '') ?? '');
      if (!claims) {
        send(401, { error: 'invalid_token' });
        return;
      }
      const jwt = await new SignJWT(claims)
        .setProtectedHeader({ alg: 'RS256', kid: this.keys[0].kid })
        .setIssuer(this.publicUrl)
        .setIssuedAt()
        .setExpirationTime('5m')
        .sign(this.keys[0].privateKey);
      res.writeHead(200, { 'content-type': 'application/jwt' }).end(jwt);
    } else {
      send(404, { error: 'not_found' });
    }
  }
}
