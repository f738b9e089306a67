import type { ServerResponse } from 'node:http';

/** What a health endpoint answers: the HTTP status and its JSON body. */
export interface HealthAnswer {
  status: 200 | 503;
  body: { status: 'ok' } | { status: 'ready' } | { status: 'unavailable'; error: string };
}

interface Check {
  failure: string;
  probe: () => unknown;
}

/**
 * Liveness and readiness of one app, the same on its public port and on its management port. Live while the
 * process runs; ready when it is not draining and every registered check passes, else 503 with the first
 * failure in registration order: `{status:'unavailable', error:'shutting_down'}`, `…'store_unavailable'}`.
 */
export class Health {
  readonly #checks: Check[] = [];

  /** `shutdown` is the app's `GracefulShutdown` (or anything that says whether a drain has started). */
  constructor(private readonly shutdown?: { readonly draining: boolean }) {}

  /** A probe that resolves when a dependency answers; when it throws or rejects, readiness reports `failure`. */
  addCheck(failure: string, probe: () => unknown): this {
    this.#checks.push({ failure, probe });
    return this;
  }

  liveness(): HealthAnswer {
    return { status: 200, body: { status: 'ok' } };
  }

  async readiness(): Promise<HealthAnswer> {
    if (this.shutdown?.draining) return unavailable('shutting_down');
    const outcomes = await Promise.allSettled(this.#checks.map(async (check) => check.probe()));
    const failed = outcomes.findIndex((outcome) => outcome.status === 'rejected');
    return failed === -1
      ? { status: 200, body: { status: 'ready' } }
      : unavailable(this.#checks[failed].failure);
  }
}

function unavailable(error: string): HealthAnswer {
  return { status: 503, body: { status: 'unavailable', error } };
}

/** Writes a health answer; never cached, since it changes from one second to the next. */
export function writeHealth(res: ServerResponse, answer: HealthAnswer): void {
  const body = JSON.stringify(answer.body);
  res.writeHead(answer.status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  });
  res.end(body);
}
