import { ConfigFileInvalid, unreadable } from '@cloakroom/config';
import { watchFileContent } from '../file-content.watch.js';
import { loadJwks } from './jwks.js';
import type { PrivateJwks } from './jwks.js';
import { activationOf, isoSeconds, keySchedule } from './key-schedule.js';
import type { SigningKeyRing } from './signing-key.ring.js';

export interface SigningKeysWatchOptions {
  logger: { info(object: object, message: string): void; warn(object: object, message: string): void };
  /** How often the file is looked at, in milliseconds. */
  intervalMs?: number;
}

/** setTimeout's longest delay (about 24.8 days); a later activation is waited for in steps. */
const LONGEST_TIMER_MS = 2 ** 31 - 1;

/**
 * Keeps the running server's keys in step with its JWKS file. A rewritten file (`keys rotate`, a mounted Secret
 * updated) is checked as at startup and its keys are published at once, each new one signing only from its
 * activation time; a file that does not validate, or in which no key is active, is logged with its problems and
 * the keys in service stay. At each activation time the log says which key signs from then on; the switch itself
 * does not wait for this timer (see SigningKeyRing).
 */
export function watchSigningKeys(
  path: string,
  ring: SigningKeyRing,
  options: SigningKeysWatchOptions,
): { close(): void; reloaded: Promise<void> } {
  const { logger } = options;
  let timer: NodeJS.Timeout | undefined;
  let announced = ring.current.signing.kid;
  const announce = () => {
    const { signing } = ring.current;
    if (signing.kid === announced) return;
    announced = signing.kid;
    logger.info({ kid: signing.kid, alg: signing.alg }, 'signing key activated: it signs from now on');
  };
  const arm = () => {
    clearTimeout(timer);
    const { until } = ring.current;
    if (until === undefined) return;
    const delay = Math.min(Math.max(until - Date.now() + 1, 0), LONGEST_TIMER_MS);
    timer = setTimeout(() => {
      announce();
      arm();
    }, delay).unref();
  };

  const refuse = (problems: string[]) =>
    logger.warn(
      { file: path, problems },
      'JWKS file changed but cannot be used: the keys in service stay (published and signing as before)',
    );
  const reload = (jwks: PrivateJwks) => {
    if (JSON.stringify(jwks) === JSON.stringify(ring.jwks)) return;
    const known = new Set(ring.jwks.keys.map((key) => key.kid));
    const cannotSign = ring.replace(jwks);
    if (cannotSign) return refuse([cannotSign]);
    const now = Date.now();
    const schedule = keySchedule(jwks, now);
    logger.info(
      {
        file: path,
        signing: ring.current.signing.kid,
        published: jwks.keys.map((key) => key.kid),
        activations: schedule.pending.map((key) => ({ kid: key.kid, at: isoSeconds(activationOf(key)!) })),
      },
      'JWKS file reloaded: every key in it is published',
    );
    const activeAtOnce = schedule.active.filter((key) => !known.has(key.kid)).map((key) => key.kid);
    if (activeAtOnce.length > 0) {
      logger.warn(
        { kids: activeAtOnce },
        'new keys active at once: an API that fetched the JWKS recently rejects the tokens they sign until it fetches it again; give new keys an activation time (keys rotate --activate-in)',
      );
    }
    announce();
    arm();
  };

  const watch = watchFileContent(
    path,
    {
      onUnreadable: (error) => refuse([unreadable(error)]),
      onContent(text) {
        let jwks: PrivateJwks;
        try {
          jwks = loadJwks({ path, text });
        } catch (error) {
          if (error instanceof ConfigFileInvalid) return refuse(error.problems);
          throw error;
        }
        reload(jwks);
      },
      onFailure: (error) =>
        logger.warn({ file: path, err: { message: error.message } }, 'JWKS file could not be reloaded'),
    },
    options.intervalMs,
  );
  arm();
  return {
    close: () => {
      clearTimeout(timer);
      watch.close();
    },
    get reloaded() {
      return watch.handled;
    },
  };
}
