/** The help text, shown by `cloakroom help` and with every usage error. */
export const USAGE = `Usage: cloakroom budget <jwt | -> [--cookie-name <name>] [--json]
       cloakroom budget --cookie <Cookie header | -> [--json]
       cloakroom budget --user <id> --password <pw | -> [--issuer <url>] [--client-id <id>]
                        [--client-secret <secret>] [--resource <uri>] [--redirect-uri <uri>] [--json]
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

  -                 read the token, the Cookie header or the password from stdin
  --json            print the analysis as JSON
  --issuer          authorization server for --user (default http://localhost:3000)
  --users, --resources
                    predict, for every user and every JWT resource of the authorization server's files,
                    the access token as it would be issued: the groups the resource may see, the claims its
                    byte budget moves to distributed claims, and the limits the line would break (and
                    would have broken without the budget); exit 1 when any does not fit
  --user            sign in as this user through the sign-in form, as the client would (default client:
                    the demo gateway, its redirect URI and the demo API as resource) and weigh the
                    access token issued

Exit codes: 0 everything fits every limit, 1 a limit is exceeded, 2 wrong usage or unreadable input,
3 no token could be obtained (--user).
`;
