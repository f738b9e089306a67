/**
 * A minimal browser for HTTP-level tests and the benchmarks: a cookie jar per origin (no domain matching beyond
 * host:port), manual redirects, forms and the sign-in form. Real browsers are exercised with Chromium elsewhere.
 *
 * The benchmarks load this file as it is, with Node stripping the types: it imports nothing and uses only
 * TypeScript that erases to JavaScript (no enums, namespaces or parameter properties).
 */
export class TestBrowser {
  private readonly jar = new Map<string, Map<string, string>>();

  /** Sends one request with the jar's cookies and stores the cookies it sets; a redirect is an answer. */
  async fetch(url: string | URL, init: RequestInit = {}): Promise<Response> {
    const target = new URL(url);
    const headers = new Headers(init.headers);
    const cookies = this.jar.get(target.host);
    if (cookies?.size) headers.set('cookie', [...cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    const response = await fetch(target, { ...init, headers, redirect: 'manual' });
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';');
      const at = pair.indexOf('=');
      const name = pair.slice(0, at).trim();
      const value = pair.slice(at + 1).trim();
      const expired = attributes.some(
        (a) => /^\s*max-age=0\s*$/i.test(a) || /expires=thu, 01 jan 1970/i.test(a),
      );
      this.set(target, name, expired || value === '' ? undefined : value);
    }
    return response;
  }

  /** Follows redirects until a non-redirect answer, or until `stop` says the next URL is the destination. */
  async follow(
    url: string | URL,
    stop: (url: URL) => boolean = () => false,
  ): Promise<{ response: Response; url: URL }> {
    let current = new URL(url);
    let response = await this.fetch(current);
    for (let hops = 0; hops < 20 && response.status >= 300 && response.status < 400; hops++) {
      const location = response.headers.get('location');
      if (!location) break;
      await response.arrayBuffer();
      current = new URL(location, current);
      if (stop(current)) return { response, url: current };
      response = await this.fetch(current);
    }
    return { response, url: current };
  }

  /** Posts an urlencoded form (with the page's origin, as a browser does for same-origin forms). */
  submit(url: string | URL, fields: Record<string, string>): Promise<Response> {
    const target = new URL(url);
    return this.fetch(target, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: target.origin },
      body: new URLSearchParams(fields).toString(),
    });
  }

  /**
   * Signs in like a person would: follows `start` to the sign-in page, submits the credentials and any
   * confirmation that follows (consent), and returns the first URL `done` recognises, without fetching it.
   */
  async signIn(
    start: string | URL,
    username: string,
    password: string,
    done: (url: URL) => boolean,
  ): Promise<URL> {
    let { response, url } = await this.follow(start, done);
    for (let step = 0; step < 4 && !done(url); step++) {
      const html = await response.text();
      if (response.status >= 400)
        throw new Error(`sign-in page answered ${response.status}: ${html.slice(0, 300)}`);
      const action = formAction(html);
      const csrf = inputValue(html, 'csrf');
      if (!action || !csrf) throw new Error(`no form on ${url.href} (${response.status})`);
      const fields: Record<string, string> = html.includes('name="password"')
        ? { csrf, username, password }
        : { csrf };
      const target = new URL(action, url);
      const posted = await this.submit(target, fields);
      if (posted.status < 300 || posted.status >= 400) {
        throw new Error(`form answered ${posted.status}: ${(await posted.text()).slice(0, 300)}`);
      }
      ({ response, url } = await this.follow(new URL(posted.headers.get('location')!, target), done));
    }
    if (!done(url)) throw new Error(`sign-in of ${username} did not finish (${url.href})`);
    return url;
  }

  get(origin: string | URL, name: string): string | undefined {
    return this.jar.get(new URL(origin).host)?.get(name);
  }

  /** The names of an origin's cookies, oldest first (the order a browser sends them in). */
  names(origin: string | URL): string[] {
    return [...(this.jar.get(new URL(origin).host)?.keys() ?? [])];
  }

  set(origin: string | URL, name: string, value: string | undefined): void {
    const host = new URL(origin).host;
    const cookies = this.jar.get(host) ?? new Map<string, string>();
    if (value === undefined) cookies.delete(name);
    else cookies.set(name, value);
    this.jar.set(host, cookies);
  }

  /** The same cookies for another origin (a second gateway instance behind the same site). */
  copy(from: string | URL, to: string | URL): void {
    this.jar.set(new URL(to).host, new Map(this.jar.get(new URL(from).host)));
  }
}

/** The value of a hidden or text input in an HTML page. */
export function inputValue(html: string, name: string): string | undefined {
  const match = new RegExp(`<input[^>]*name="${name}"[^>]*value="([^"]*)"`).exec(html);
  return match?.[1];
}

/** The action of the first form in an HTML page. */
export function formAction(html: string): string | undefined {
  return /<form[^>]*action="([^"]+)"/.exec(html)?.[1]?.replaceAll('&amp;', '&');
}
