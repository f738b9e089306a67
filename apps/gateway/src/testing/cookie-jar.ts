/** A browser reduced to what the gateway tests need: cookies per host:port and manual redirects. */
export class CookieJar {
  private readonly jar = new Map<string, Map<string, string>>();

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
      const expired = attributes.some((a) => /^\s*max-age=0\s*$/i.test(a));
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
