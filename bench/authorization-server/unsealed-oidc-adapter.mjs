// The memory baseline's stand-in for @cloakroom/oidc-adapter (see server.mjs): the package as it is, except that
// the authorization server gets no sealed adapter, so oidc-provider keeps its data in its own memory adapter.
export * from '@cloakroom/oidc-adapter';

/** Calls so far: the baseline checks that the server really took its adapter from here. */
export let calls = 0;

/** No adapter: oidc-provider falls back to its own in-memory one, unsealed. */
export function sealedOidcAdapter() {
  calls++;
  return undefined;
}
