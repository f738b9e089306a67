import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { FakeIssuer } from '../../../test/support/fake-issuer.fixture.js';
import { connectionRefused, openRaw } from '../../../test/support/raw-http.js';
import { startDemoApi } from './bootstrap.js';

describe('demo API shutdown', () => {
  let issuer: FakeIssuer;
  beforeAll(async () => (issuer = await FakeIssuer.start()));
  afterAll(async () => await issuer?.close());

  it('close(): an order whose body is still arriving completes with 201, new connections are refused, /readyz answers 503', async () => {
    const api = await startDemoApi({
      PORT: '0',
      LOG_LEVEL: 'silent',
      ISSUER_URL: issuer.url,
      RESOURCE_AUDIENCE: 'http://api.test',
      INTROSPECTION_CLIENT_ID: 'rs',
      INTROSPECTION_CLIENT_SECRET: 'rs-secret',
    });
    try {
      expect((await fetch(`${api.url}/readyz`)).status).toBe(200);
      const writer = await issuer.token({ scope: 'orders:read orders:write' });
      const body = JSON.stringify({ item: 'tea', quantity: 2 });
      const upload = await openRaw(api.url);
      upload.write(
        `POST /api/orders HTTP/1.1\r\nHost: api\r\nAuthorization: Bearer ${writer}\r\n` +
          `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 5)}`,
      );
      const probe = await openRaw(api.url);
      probe.write('GET /readyz HTTP/1.1\r\nHost: api\r\n');
      await new Promise((resolve) => setTimeout(resolve, 100));

      const closed = api.close();
      expect(await connectionRefused(api.url)).toBe(true);
      probe.write('\r\n');
      await probe.closed;
      expect(probe.received()).toMatch(/^HTTP\/1\.1 503 /);
      expect(probe.received()).toContain('{"status":"unavailable","error":"shutting_down"}');
      // The management port says the same while the drain lasts.
      expect(await (await fetch(`${api.managementUrl}/readyz`)).json()).toEqual({
        status: 'unavailable',
        error: 'shutting_down',
      });
      await new Promise((resolve) => setTimeout(resolve, 300));
      upload.write(body.slice(5));

      await upload.closed;
      expect(upload.received()).toMatch(/^HTTP\/1\.1 201 /);
      expect(upload.received()).toMatch(/\r\nConnection: close\r\n/i);
      expect(upload.received()).toContain('"item":"tea"');
      await closed;
    } finally {
      await api.close();
    }
  });
});
