/** mulberry32: small, fast, good enough to pick inputs; every probe gets its own stream from (seed, index). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Draws hostile values from the stream of one (seed, index): the same pair always gives the same values, so
 * input number n of a seed is the same in every run.
 */
export class SeededGenerator {
  readonly next: () => number;
  constructor(seed: number, index: number) {
    this.next = prng((Math.imul(seed, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca6b)) >>> 0);
  }
  int(max: number): number {
    return Math.floor(this.next() * max);
  }
  range(min: number, max: number): number {
    return min + this.int(max - min + 1);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
  bytes(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) out[i] = this.int(256);
    return out;
  }
  /** Characters a header value may carry (HTAB, visible ASCII, space, obs-text), random otherwise. */
  headerText(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) {
      const r = this.next();
      s += String.fromCharCode(r < 0.8 ? 0x20 + this.int(95) : r < 0.97 ? 0x80 + this.int(128) : 9);
    }
    return s;
  }
  b64url(n: number): string {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    let s = '';
    for (let i = 0; i < n; i++) s += alphabet[this.int(64)];
    return s;
  }
  /** Any Unicode text, lone surrogates, controls and NUL included (for bodies and query strings). */
  unicode(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) {
      const r = this.next();
      s += String.fromCharCode(
        r < 0.5
          ? 0x20 + this.int(95)
          : r < 0.65
            ? this.int(0x20)
            : r < 0.8
              ? 0xd800 + this.int(0x800)
              : this.int(0x10000),
      );
    }
    return s;
  }
  /** Percent-encodings that do not decode to valid UTF-8, or do not decode at all. */
  oddEncoding(): string {
    return this.pick([
      '%',
      '%Z',
      '%ZZ',
      '%C3%28',
      '%E2%82',
      '%F0%28%8C%BC',
      '%C0%AF',
      '%ED%A0%80',
      '%00',
      '%FF%FE',
      '%%32%35',
      '%u0041',
      '+%2B+',
      '%0D%0A',
      encodeURIComponent(this.unicode(this.range(1, 8)).replace(/[\ud800-\udfff]/g, 'x')),
    ]);
  }
  /** A value of some hostile kind, for parameters. */
  value(): string {
    switch (this.int(9)) {
      case 0:
        return '';
      case 1:
        return this.b64url(this.range(1, 64));
      case 2:
        return this.headerText(this.range(1, 40));
      case 3:
        return 'x'.repeat(this.pick([256, 1024, 4096, 9000, 20_000]));
      case 4:
        return this.pick([
          'null',
          'undefined',
          '[]',
          '{}',
          '0',
          '-1',
          'NaN',
          'true',
          '__proto__',
          'constructor',
        ]);
      case 5:
        return this.pick([
          'https://evil.example/cb',
          'javascript:alert(1)',
          '//evil.example',
          'http://127.0.0.1:1/',
        ]);
      case 6:
        return `${this.b64url(20)}.${this.b64url(30)}.${this.b64url(40)}`;
      case 7:
        return this.unicode(this.range(1, 30)).replace(/[\ud800-\udfff]/g, '\ufffd');
      default:
        return String(this.range(-1e6, 1e12));
    }
  }
}

/** A form or query string with raw pieces kept as they are (odd encodings survive). */
export function encodePairs(pairs: Array<[string, string, boolean?]>): string {
  return pairs
    .map(([k, v, raw]) => (raw ? `${k}=${v}` : `${encodeURIComponent(k)}=${encodeURIComponent(v)}`))
    .join('&');
}

/** Mutates a list of parameters: removes, replaces, duplicates, adds, or encodes oddly. */
export function mutatePairs(
  g: SeededGenerator,
  pairs: Array<[string, string, boolean?]>,
  extraNames: string[],
): void {
  const rounds = g.range(1, 3);
  for (let r = 0; r < rounds; r++) {
    const at = g.int(Math.max(1, pairs.length));
    switch (g.int(7)) {
      case 0:
        pairs.splice(at, 1);
        break;
      case 1:
        if (pairs[at]) pairs[at] = [pairs[at][0], g.value()];
        break;
      case 2:
        if (pairs[at]) pairs.push([pairs[at][0], g.value()]);
        break;
      case 3:
        pairs.push([g.pick(extraNames), g.value()]);
        break;
      case 4:
        if (pairs[at]) pairs[at] = [pairs[at][0], g.oddEncoding(), true];
        break;
      case 5:
        pairs.push([`${g.pick(extraNames)}[]`, g.value()]);
        break;
      default:
        // Repeated, but never past 40 KB (a request line or body that size is refused anyway).
        if (pairs[at]) pairs[at] = [pairs[at][0], pairs[at][1].repeat(g.range(2, 200)).slice(0, 40_000)];
    }
  }
}
