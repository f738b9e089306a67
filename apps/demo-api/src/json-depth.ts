/** Nesting deeper than this is refused before parsing: no order needs more, and deep bodies exhaust the stack. */
export const MAX_JSON_DEPTH = 32;

const OPEN_OBJECT = 0x7b;
const OPEN_ARRAY = 0x5b;
const CLOSE_OBJECT = 0x7d;
const CLOSE_ARRAY = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * True when the JSON text nests objects and arrays deeper than `max`. One pass over the bytes, brackets
 * inside strings ignored; malformed text is left for the parser to refuse.
 */
export function jsonNestsDeeperThan(body: Uint8Array, max = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < body.length; i++) {
    const byte = body[i];
    if (inString) {
      if (byte === BACKSLASH) i++;
      else if (byte === QUOTE) inString = false;
    } else if (byte === QUOTE) {
      inString = true;
    } else if (byte === OPEN_OBJECT || byte === OPEN_ARRAY) {
      if (++depth > max) return true;
    } else if (byte === CLOSE_OBJECT || byte === CLOSE_ARRAY) {
      depth--;
    }
  }
  return false;
}

/** A body refused for its nesting: answered 400 with this reason. */
export class JsonTooDeep extends Error {
  override readonly name = 'JsonTooDeep';
  readonly status = 400;
  constructor() {
    super(`the body nests objects or arrays deeper than ${MAX_JSON_DEPTH} levels`);
  }
}
