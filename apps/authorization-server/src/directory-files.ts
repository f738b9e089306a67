// The users and resources files as the authorization server reads them, for tools that predict what it issues
// (`cloakroom budget --users … --resources …`).
export { loadUsers } from './accounts/users.file.js';
export type { UserEntry } from './accounts/users.file.js';
export { loadResources } from './oidc/resources.js';
export type { ResourceServerDefinition } from './oidc/resources.js';
