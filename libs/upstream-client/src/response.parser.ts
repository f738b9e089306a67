import { UpstreamProtocolError } from './errors.js';

/** Response header fields as read: names lower-cased, a field sent more than once kept as a list. */
export type ResponseHeaders = Record<string, string | string[]>;

export interface ResponseHead {
  status: number;
  headers: ResponseHeaders;
}

/** How the body of a response ends (RFC 9112 §6.3). */
type Framing = 'none' | 'length' | 'chunked' | 'close';

export interface ParserEvents {
  head(head: ResponseHead): void;
  /** A piece of the body (decoded from chunked encoding); the buffer may be a view of the socket's. */
  body(chunk: Buffer): void;
  /** The response is complete; `reusable` tells whether the connection may carry another request. */
  end(reusable: boolean): void;
}

const STATUS_LINE = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: [^\r\n]*)?$/;
const FIELD_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+):[ \t]*(.*?)[ \t]*$/;
// eslint-disable-next-line no-control-regex -- control characters are exactly what it looks for
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/;
const CHUNK_SIZE = /^([0-9A-Fa-f]{1,12})[ \t]*(?:;.*)?$/;
const CRLF_CRLF = Buffer.from('\r\n\r\n');
const CRLF = Buffer.from('\r\n');
/** Longest chunk-size line or trailer section accepted. */
const MAX_LINE_BYTES = 4096;

/**
 * A strict, incremental HTTP/1.1 response reader: one response per request, interim (1xx) responses skipped,
 * bodies framed by Content-Length, chunked encoding or the end of the connection. Anything ambiguous (folded
 * or malformed fields, conflicting lengths, bytes after the response) is a protocol error, never a guess.
 */
export class ResponseParser {
  private state:
    'head' | 'length' | 'chunk-size' | 'chunk-data' | 'chunk-end' | 'trailers' | 'close' | 'done' = 'head';
  private pending: Buffer | undefined;
  private remaining = 0;
  private reusable = false;
  private started = false;
  private ended = false;

  constructor(
    private readonly headRequest: boolean,
    private readonly maxHeaderBytes: number,
    private readonly events: ParserEvents,
  ) {}

  /** True once any byte of the response has arrived. */
  get receiving(): boolean {
    return this.started;
  }

  /** Feeds bytes from the connection; throws UpstreamProtocolError on a malformed response. */
  push(data: Buffer): void {
    this.started = true;
    let input = this.pending ? Buffer.concat([this.pending, data]) : data;
    this.pending = undefined;
    while (input.length > 0 && this.state !== 'done') {
      switch (this.state) {
        case 'head': {
          const end = input.indexOf(CRLF_CRLF);
          if (end < 0) {
            if (input.length > this.maxHeaderBytes)
              throw new UpstreamProtocolError('response head too large');
            this.pending = input;
            return;
          }
          if (end > this.maxHeaderBytes) throw new UpstreamProtocolError('response head too large');
          this.readHead(input.toString('latin1', 0, end));
          input = input.subarray(end + 4);
          break;
        }
        case 'length':
          input = this.body(input);
          if (this.remaining === 0) this.finish();
          break;
        case 'chunk-size': {
          const line = this.line(input);
          if (line === undefined) return;
          const match = CHUNK_SIZE.exec(line.text);
          if (!match) throw new UpstreamProtocolError('malformed chunk size');
          this.remaining = parseInt(match[1], 16);
          this.state = this.remaining === 0 ? 'trailers' : 'chunk-data';
          input = line.rest;
          break;
        }
        case 'chunk-data':
          input = this.body(input);
          if (this.remaining === 0) this.state = 'chunk-end';
          break;
        case 'chunk-end': {
          const line = this.line(input);
          if (line === undefined) return;
          if (line.text !== '') throw new UpstreamProtocolError('chunk data longer than its size');
          this.state = 'chunk-size';
          input = line.rest;
          break;
        }
        case 'trailers': {
          // Trailer fields are read and dropped: nothing downstream asked for them.
          const line = this.line(input);
          if (line === undefined) return;
          if (line.text === '') this.finish();
          else if (!FIELD_LINE.test(line.text)) throw new UpstreamProtocolError('malformed trailer field');
          input = line.rest;
          break;
        }
        case 'close':
          this.events.body(input);
          return;
      }
    }
    if (this.state === 'done' && !this.ended) {
      this.ended = true;
      // Bytes nobody asked for: the connection cannot be trusted with another request.
      this.events.end(this.reusable && input.length === 0);
    }
  }

  /** The connection ended; throws UpstreamProtocolError unless that is how this response ends. */
  close(): void {
    if (this.state === 'close') {
      this.state = 'done';
      this.ended = true;
      this.events.end(false);
    } else if (this.state !== 'done') {
      throw new UpstreamProtocolError(
        this.started ? 'response cut short' : 'connection closed before a response',
      );
    }
  }

  private readHead(text: string): void {
    const lines = text.split('\r\n');
    const status = STATUS_LINE.exec(lines[0]);
    if (!status) throw new UpstreamProtocolError('malformed status line');
    const code = Number(status[2]);
    const headers: ResponseHeaders = {};
    for (let i = 1; i < lines.length; i++) {
      const field = FIELD_LINE.exec(lines[i]);
      // Obsolete line folding starts with whitespace and fails here, as do bare CR or LF inside a field.
      if (!field || CONTROL.test(field[2])) throw new UpstreamProtocolError('malformed header field');
      const name = field[1].toLowerCase();
      const previous = headers[name];
      if (previous === undefined) headers[name] = field[2];
      else if (Array.isArray(previous)) previous.push(field[2]);
      else headers[name] = [previous, field[2]];
    }
    if (code < 200) {
      // 101 is never asked for (Upgrade is not forwarded); 100 and 103 are interim: the real answer follows.
      if (code === 101) throw new UpstreamProtocolError('unexpected protocol switch');
      return;
    }
    const framing = this.framing(code, headers);
    this.reusable = status[1] === '1' && framing !== 'close' && !hasToken(headers.connection, 'close');
    if (framing !== 'length' && framing !== 'none') delete headers['content-length'];
    this.events.head({ status: code, headers });
    if (framing === 'none') this.finish();
    else if (framing === 'length') {
      this.state = 'length';
      if (this.remaining === 0) this.finish();
    } else this.state = framing === 'chunked' ? 'chunk-size' : 'close';
  }

  private framing(code: number, headers: ResponseHeaders): Framing {
    if (this.headRequest || code === 204 || code === 304) return 'none';
    const coding = headers['transfer-encoding'];
    if (coding !== undefined) {
      const codings = list(coding);
      // Length and coding together is how responses get smuggled: honour the coding, never reuse.
      if (headers['content-length'] !== undefined) headers.connection = 'close';
      return codings[codings.length - 1] === 'chunked' ? 'chunked' : 'close';
    }
    const lengths = headers['content-length'];
    if (lengths === undefined) return 'close';
    const values = list(lengths);
    if (!values.every((value) => /^\d{1,15}$/.test(value) && value === values[0])) {
      throw new UpstreamProtocolError('invalid content-length');
    }
    this.remaining = Number(values[0]);
    headers['content-length'] = values[0];
    return 'length';
  }

  /** The response is complete; `end` is signalled once the bytes in hand are looked at. */
  private finish(): void {
    this.state = 'done';
  }

  /** Hands on up to `remaining` bytes of body; returns what follows them. */
  private body(input: Buffer): Buffer {
    const take = Math.min(this.remaining, input.length);
    this.events.body(input.subarray(0, take));
    this.remaining -= take;
    return input.subarray(take);
  }

  /** One CRLF-terminated line from the input, or undefined (input kept) when it is not complete yet. */
  private line(input: Buffer): { text: string; rest: Buffer } | undefined {
    const end = input.indexOf(CRLF);
    if (end < 0) {
      if (input.length > MAX_LINE_BYTES) throw new UpstreamProtocolError('line too long');
      this.pending = input;
      return undefined;
    }
    if (end > MAX_LINE_BYTES) throw new UpstreamProtocolError('line too long');
    return { text: input.toString('latin1', 0, end), rest: input.subarray(end + 2) };
  }
}

function list(value: string | string[]): string[] {
  return (Array.isArray(value) ? value.join(',') : value)
    .split(',')
    .map((item) => item.trim().toLowerCase())
    .filter((item) => item !== '');
}

function hasToken(value: string | string[] | undefined, token: string): boolean {
  return value !== undefined && list(value).includes(token);
}
