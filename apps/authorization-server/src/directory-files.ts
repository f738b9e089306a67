// The files the authorization server serves from (users, resources, signing keys), read, checked and written the
// way it does, for the command line (`cloakroom users …`, `cloakroom keys …`, `cloakroom budget --users …`).
// Nothing here starts a server or loads oidc-provider.
export { USERNAME, loadUsers } from './accounts/users.file.js';
export type { UserEntry } from './accounts/users.file.js';
export { hashPassword, verifyPassword } from './accounts/password.hasher.js';
export { loadResources } from './oidc/resources.js';
export type { ResourceServerDefinition } from './oidc/resources.js';
export { SIGNING_ALGS, generateJwk, loadJwks } from './keys/jwks.js';
export { activationOf, isoSeconds, keySchedule, signingKeyProblem } from './keys/key-schedule.js';
export type { PrivateJwk, PrivateJwks, SigningAlg } from './keys/jwks.js';
