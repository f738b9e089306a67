import { CommandFailed } from './cli.io.js';

export interface IssueTokenOptions {
  /** Authorization server issuer URL. */
  issuer: string;
  clientId: string | undefined;
  clientSecret: string | undefined;
  /** RFC 8707 resource indicator the access token is for. */
  resource: string | undefined;
  user: string;
  password: string;
}

/**
 * Obtains an access token for a user from the configured authorization server, so that its size can
 * be measured as that user would get it. The server offers no non-interactive grant for a user's
 * password (the resource owner password grant is deliberately absent), so this fails until such a
 * route exists; everything around it is ready and tested.
 */
export async function issueTokenForUser(options: IssueTokenOptions): Promise<string> {
  throw new CommandFailed(
    `issuing a token for a user is not available: ${options.issuer} offers no non-interactive grant ` +
      'for a password; pass a token instead (cloakroom budget <jwt>)',
  );
}
