/** The backing store (Redis) cannot be reached or did not answer in time. Maps to HTTP 503. */
export class StoreUnavailable extends Error {
  override readonly name = 'StoreUnavailable';
  constructor(reason: string, options?: { cause?: unknown }) {
    super(`session store unavailable: ${reason}`, options);
  }
}

/** A caller broke the store's contract (bad namespace, TTL, value). A programming error, not user input. */
export class StoreMisuse extends TypeError {
  override readonly name = 'StoreMisuse';
}
