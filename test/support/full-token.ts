import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

/**
 * The token as it was before access tokens had a byte budget: the forwarded token with power-user's 272 groups
 * put back in place of the distributed claims reference. nginx does not verify signatures; it counts bytes.
 */
export function withAllGroups(token: string): string {
  const [header, payload, signature] = token.split('.');
  const {
    _claim_names: _names,
    _claim_sources: _sources,
    ...claims
  } = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as Record<string, unknown>;
  const users = parse(readFileSync('config/demo/users.yaml', 'utf8')) as {
    users: Record<string, { groups: string[] }>;
  };
  const full = { ...claims, groups: users.users['power-user']!.groups };
  return `${header}.${Buffer.from(JSON.stringify(full)).toString('base64url')}.${signature}`;
}
