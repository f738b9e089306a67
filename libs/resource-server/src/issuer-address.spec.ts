import { describe, expect, it } from '@jest/globals';
import { IssuerAddress } from './issuer-address.js';

describe(IssuerAddress.name, () => {
  it('without an internal address, reaches every URL where it points', () => {
    const address = new IssuerAddress('https://auth.example.com/');
    expect(address.discovery.href).toBe('https://auth.example.com/.well-known/openid-configuration');
    expect(address.reach('https://auth.example.com/jwks').href).toBe('https://auth.example.com/jwks');
  });

  it("moves the issuer's origin to the internal one, path and query kept, scheme and port included", () => {
    const address = new IssuerAddress('https://auth.example.com/tenant', 'http://authorization-server:3000/');
    expect(address.discovery.href).toBe(
      'http://authorization-server:3000/tenant/.well-known/openid-configuration',
    );
    expect(address.reach('https://auth.example.com/token/introspection?x=1').href).toBe(
      'http://authorization-server:3000/token/introspection?x=1',
    );
  });

  it('leaves URLs at any other origin as they are, another port or scheme of the issuer host included', () => {
    const address = new IssuerAddress('https://auth.example.com', 'http://authorization-server:3000');
    for (const url of [
      'https://keys.example.com/jwks',
      'https://auth.example.com:8443/jwks',
      'http://auth.example.com/jwks',
    ]) {
      expect(address.reach(url).href).toBe(new URL(url).href);
    }
    expect(address.isIssuerOrigin(new URL('https://auth.example.com/claims'))).toBe(true);
    expect(address.isIssuerOrigin(new URL('http://authorization-server:3000/claims'))).toBe(false);
  });
});
