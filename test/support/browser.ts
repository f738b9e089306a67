/**
 * A minimal browser for HTTP-level end-to-end tests: a cookie jar per origin (no domain matching beyond
 * host:port), manual redirects, and form helpers. Real browsers are exercised with Chromium elsewhere.
 */
export class TestBrowser {
  private readonly jar = new Map<string, Map<string, string>>();

  /** Sends one request with the jar's cookies and stores the cookies it sets. */
  async request(url: string | URL, init: RequestInit = {}): Promise<Response> {
    const target = new URL(url);
    const headers = new Headers(init.headers);
    const cookies = this.cookieHeader(target);
    if (cookies) headers.set('cookie', cookies);
    const response = await fetch(target, { ...init, headers, redirect: 'manual' });
    this.store(target, response);
    return response;
  }

  /** Follows redirects until a non-redirect answer or until `stop` says a URL must not be fetched. */
  async follow(
    url: string | URL,
    init: RequestInit = {},
    stop: (url: URL) => boolean = () => false,
  ): Promise<{ response: Response; url: URL }> {
    let current = new URL(url);
    let response = await this.request(current, init);
    for (let hops = 0; hops < 20 && response.status >= 300 && response.status < 400; hops++) {
      const location = response.headers.get('location');
      if (!location) break;
      await response.arrayBuffer();
      current = new URL(location, current);
      if (stop(current)) return { response, url: current };
      response = await this.request(current);
    }
    return { response, url: current };
  }

  /** Posts an urlencoded form (with the page's origin, as a browser does for same-origin forms). */
  async submit(url: string | URL, fields: Record<string, string>): Promise<Response> {
    const target = new URL(url);
    return this.request(target, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: target.origin },
      body: new URLSearchParams(fields).toString(),
    });
  }

  cookie(origin: string | URL, name: string): string | undefined {
    return this.jar.get(new URL(origin).host)?.get(name);
  }

  cookies(origin: string | URL): Map<string, string> {
    return new Map(this.jar.get(new URL(origin).host));
  }

  setCookie(origin: string | URL, name: string, value: string | undefined): void {
    const host = new URL(origin).host;
    const cookies = this.jar.get(host) ?? new Map<string, string>();
    if (value === undefined) cookies.delete(name);
    else cookies.set(name, value);
    this.jar.set(host, cookies);
  }

  private cookieHeader(url: URL): string {
    const cookies = this.jar.get(url.host);
    return cookies ? [...cookies].map(([k, v]) => `${k}=${v}`).join('; ') : '';
  }

  private store(url: URL, response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';');
      const index = pair.indexOf('=');
      const name = pair.slice(0, index).trim();
      const value = pair.slice(index + 1).trim();
      const expired = attributes.some(
        (a) => /^\s*max-age=0\s*$/i.test(a) || /expires=thu, 01 jan 1970/i.test(a),
      );
      this.setCookie(url, name, expired || value === '' ? undefined : value);
    }
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
