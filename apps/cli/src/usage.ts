/** The help text, shown by `cloakroom help` and with every usage error. */
export const USAGE = `Usage: cloakroom <command> [options]

Users of the authorization server (its users file):
  cloakroom users set <username> [--password-stdin | --password <pw>] [--name <n>] [--given-name <n>]
            [--family-name <n>] [--preferred-username <n>] [--email <e>] [--email-verified true|false]
            [--locale <l>] [--sub <id>] [--groups a,b,c] [--disabled | --enabled] [--file <users.yaml>]
      Adds or updates a user (argon2id hash); other users, comments and layout are kept.
      A new user needs a password. An empty value (--email '') removes a claim.
  cloakroom users remove <username> [--file <users.yaml>]
  cloakroom users list [--file <users.yaml>]
  cloakroom hash-password [--password-stdin | --password <pw>]
      Prints the argon2id PHC string of the password (read from stdin by default).
The users file defaults to $USERS_FILE, then config/demo/users.yaml. A running authorization server
reloads its users file when it changes: no restart needed.

Signing keys of the authorization server (a private JWKS file, $JWKS_FILE by default):
  cloakroom keys generate [--file <jwks.json>] [--alg RS256] [--force]
      Writes a private JWKS with one signing key (mode 0600).
  cloakroom keys rotate [--file <jwks.json>] [--alg <alg>] [--activate-in <duration>]
      Adds a new key, published at once, that signs from its activation time (activatesAt): after
      --activate-in (30s, 10m, 1h, 2d; default 10m, longer than APIs take to fetch the JWKS again), or
      at once with 0. Older keys stay published. A running server switches at that time, no restart.
  cloakroom keys remove [--file <jwks.json>] [--] <kid>
      Refuses to remove the only active key.
  cloakroom keys list [--file <jwks.json>]
      Each key's state: signing, published, or published and activating at a time.
Algorithms: RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512 EdDSA.

Token budget: how heavy is a token, and which limit will it break?
  cloakroom budget <jwt | -> [--cookie-name <name>] [--json]
  cloakroom budget --cookie <Cookie header | -> [--json]
  cloakroom budget --users <users file> --resources <resources file> [--issuer <url>]
                   [--client-id <id>] [--json]
Weighs a token before it breaks production: its size, header/payload/signature, each claim's share,
and verdicts against the limits it meets on the way (each with its source):
  browser cookie       4,096 B name + value of one cookie (RFC 6265bis)
  nginx                8,192 B per header line with CRLF (large_client_header_buffers 4 8k)
  Apache httpd         8,190 B per header field (LimitRequestFieldSize)
  Node.js             16,384 B all headers together (--max-http-header-size)
  load balancers/CDNs 16,384 B per header, commonly (AWS ALB, Vercel)
A token is measured as "Authorization: Bearer <jwt>" and as the value of a cookie (named by
--cookie-name, default "token"). A Cookie header is measured cookie by cookie and as one header line;
JWT cookies, chunked ones (name.0, name.1 …) too.

  -                 read the token or the Cookie header from stdin
  --json            print the analysis as JSON
  --users, --resources
                    predict, for every user and every JWT resource of the authorization server's files,
                    the access token as it would be issued: the groups the resource may see, the claims its
                    byte budget moves to distributed claims, and the limits the line would break (and
                    would have broken without the budget); exit 1 when any does not fit
  --issuer, --client-id
                    the issuer and the client the predicted tokens name (default http://localhost:3000
                    and gateway)

A real user's token: --users and --resources predict it with the server's own code, without signing in.
To weigh one actually issued, paste it (an access token your client holds; "Bearer …" and a whole
Authorization line are fine): cloakroom budget - < token.txt. The gateway's /auth/session (and its demo
page) shows the signed-in user's access token weighed the same way, never the token itself.

Exit codes: 0 done, 1 failed, 2 wrong usage or unreadable input.
budget: 0 everything fits every limit, 1 a limit is exceeded, 2 wrong usage or unreadable input,
3 a users or resources file cannot be read or is invalid.
`;
