import type { ClientPolicy } from '../clients/index.js';

/** Per-client rules from the clients file, for the parts of the app that are not oidc-provider. */
export class ClientPolicies {
  constructor(private readonly policies: Map<string, ClientPolicy>) {}

  isFirstParty(clientId: string): boolean {
    return this.policies.get(clientId)?.firstParty === true;
  }
}
