import { randomState } from 'openid-client';

/**
 * How a login was started, carried in its `state` (a prefix) so that even a callback whose login is lost can be
 * answered the way its caller waits for: a restarted login is not restarted again, a silent one never shows a page.
 */
export type LoginKind = 'interactive' | 'restarted' | 'silent-iframe' | 'silent-redirect';

const PREFIXES: Record<LoginKind, string> = {
  interactive: '',
  restarted: 'r.',
  'silent-iframe': 'si.',
  'silent-redirect': 'sr.',
};

export function newState(kind: LoginKind): string {
  return PREFIXES[kind] + randomState();
}

export function kindOf(state: string): LoginKind {
  if (state.startsWith(PREFIXES.restarted)) return 'restarted';
  if (state.startsWith(PREFIXES['silent-iframe'])) return 'silent-iframe';
  if (state.startsWith(PREFIXES['silent-redirect'])) return 'silent-redirect';
  return 'interactive';
}

export function isSilent(kind: LoginKind): kind is 'silent-iframe' | 'silent-redirect' {
  return kind === 'silent-iframe' || kind === 'silent-redirect';
}
