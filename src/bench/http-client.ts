/**
 * A lean keep-alive HTTP/1.1 client for load generation: one TCP socket per concurrent caller,
 * reused, each carrying one request at a time, requests written as one buffer and responses
 * parsed just enough (status line, `content-length` or chunked body). So each request costs one
 * round trip and no handshake, as with a real client library, and as little CPU as a load
 * generator (wrk, autocannon) spends: the client runs on the same two cores as the broker it
 * measures. `node:http` with a pooled agent used ~50-85 us of CPU per `POST /v1/grants` here, this
 * ~25-40 us (docs/benchmarks.md, "Issuance"). No retries: a failed request fails the run.
 */
import { connect, type Socket } from 'node:net';

/** Status and body text of one response. */
export interface HttpAnswer {
  readonly status: number;
  readonly body: string;
}

/** Longest response head accepted (status line and headers). */
const MAX_HEAD_BYTES = 64 * 1024;
const HEAD_END = Buffer.from('\r\n\r\n');

interface Pending {
  readonly bytes: Buffer;
  readonly what: string;
  resolve(answer: HttpAnswer): void;
  reject(error: Error): void;
}

/** One keep-alive connection: writes a request, reads its response, then takes the next. */
class Connection {
  private buffered: Buffer = Buffer.alloc(0);
  private current: Pending | undefined;
  /** Requests this socket has answered (a failure on a reused socket says so). */
  private answered = 0;
  closed = false;

  constructor(
    private readonly socket: Socket,
    private readonly idle: (connection: Connection) => void,
    private readonly ended: () => void,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', (error) => this.fail(error));
    socket.on('close', () => this.fail(new Error('socket closed by the server')));
  }

  send(request: Pending): void {
    this.current = request;
    this.socket.write(request.bytes);
  }

  close(): void {
    const first = !this.closed;
    this.closed = true;
    this.socket.destroy();
    if (first) this.ended();
  }

  private fail(error: Error): void {
    const first = !this.closed;
    this.closed = true;
    const current = this.current;
    this.current = undefined;
    current?.reject(new Error(`${current.what}: ${error.message}${this.answered > 0 ? ' (on a reused keep-alive socket)' : ''}`, { cause: error }));
    if (first) this.ended();
  }

  private receive(chunk: Buffer): void {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    const current = this.current;
    if (current === undefined) {
      this.fail(new Error('data from the server with no request outstanding'));
      this.socket.destroy();
      return;
    }
    let parsed: { answer: HttpAnswer; length: number; close: boolean } | undefined;
    try {
      parsed = parseResponse(this.buffered);
    } catch (error) {
      this.fail(error as Error);
      this.socket.destroy();
      return;
    }
    if (parsed === undefined) return;
    this.buffered = this.buffered.subarray(parsed.length);
    this.current = undefined;
    this.answered += 1;
    if (parsed.close) this.close();
    current.resolve(parsed.answer);
    if (!this.closed) this.idle(this);
  }
}

/** The first complete response in `data`, with its length in bytes; `undefined` when incomplete. */
function parseResponse(data: Buffer): { answer: HttpAnswer; length: number; close: boolean } | undefined {
  const headEnd = data.indexOf(HEAD_END);
  if (headEnd < 0) {
    if (data.length > MAX_HEAD_BYTES) throw new Error('response head too large');
    return undefined;
  }
  const lines = data.toString('latin1', 0, headEnd).split('\r\n');
  const statusLine = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
  if (statusLine === null) throw new Error(`not an HTTP/1.1 response: ${JSON.stringify((lines[0] ?? '').slice(0, 80))}`);
  let contentLength: number | undefined;
  let chunked = false;
  let close = false;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'content-length') contentLength = Number(value);
    else if (name === 'transfer-encoding') chunked = value.toLowerCase().includes('chunked');
    else if (name === 'connection') close = value.toLowerCase() === 'close';
  }
  const bodyStart = headEnd + HEAD_END.length;
  const status = Number(statusLine[1]);
  if (chunked) {
    const body = parseChunked(data, bodyStart);
    return body === undefined ? undefined : { answer: { status, body: body.text }, length: body.end, close };
  }
  if (contentLength === undefined) {
    // No body framing: only a body-less status is understood.
    if (status === 204 || status === 304) return { answer: { status, body: '' }, length: bodyStart, close };
    throw new Error(`response ${status} has neither content-length nor chunked encoding`);
  }
  if (!Number.isSafeInteger(contentLength) || contentLength < 0) throw new Error(`bad content-length in response ${status}`);
  if (data.length < bodyStart + contentLength) return undefined;
  return { answer: { status, body: data.toString('utf8', bodyStart, bodyStart + contentLength) }, length: bodyStart + contentLength, close };
}

/** A chunked body (RFC 9112 section 7.1) from `start`, or `undefined` when incomplete. */
function parseChunked(data: Buffer, start: number): { text: string; end: number } | undefined {
  const parts: Buffer[] = [];
  let at = start;
  for (;;) {
    const lineEnd = data.indexOf('\r\n', at);
    if (lineEnd < 0) return undefined;
    const size = Number.parseInt(data.toString('latin1', at, lineEnd).split(';')[0]!, 16);
    if (!Number.isSafeInteger(size) || size < 0) throw new Error('bad chunk size in response');
    const chunkStart = lineEnd + 2;
    if (size === 0) {
      // No trailers are sent to this client; the body ends with an empty line.
      if (data.length < chunkStart + 2) return undefined;
      return { text: Buffer.concat(parts).toString('utf8'), end: chunkStart + 2 };
    }
    if (data.length < chunkStart + size + 2) return undefined;
    parts.push(data.subarray(chunkStart, chunkStart + size));
    at = chunkStart + size + 2;
  }
}

/** Keep-alive client bound to one base URL, with at most `maxSockets` connections. */
export class KeepAliveClient {
  private readonly base: URL;
  private readonly idle: Connection[] = [];
  private readonly all = new Set<Connection>();
  private readonly waiting: Pending[] = [];
  private connecting = 0;
  private closed = false;

  constructor(
    baseUrl: string,
    private readonly maxSockets: number,
  ) {
    this.base = new URL(baseUrl);
    if (this.base.protocol !== 'http:') throw new Error(`KeepAliveClient speaks plain HTTP only, not ${this.base.protocol}`);
  }

  /** Sends one request; resolves with the whole response body. */
  request(method: string, path: string, opts: { headers?: Record<string, string>; body?: string } = {}): Promise<HttpAnswer> {
    return new Promise((resolve, reject) => {
      if (this.closed) {
        reject(new Error(`${method} ${path}: the client is closed`));
        return;
      }
      const body = opts.body === undefined ? undefined : Buffer.from(opts.body);
      let head = `${method} ${path} HTTP/1.1\r\nhost: ${this.base.host}\r\n`;
      for (const [name, value] of Object.entries(opts.headers ?? {})) head += `${name}: ${value}\r\n`;
      head += body === undefined ? '\r\n' : `content-length: ${body.length}\r\n\r\n`;
      const bytes = body === undefined ? Buffer.from(head, 'latin1') : Buffer.concat([Buffer.from(head, 'latin1'), body]);
      this.dispatch({ bytes, what: `${method} ${path}`, resolve, reject });
    });
  }

  /** Sends a request and returns the parsed JSON body; throws unless the status is `expected`. */
  async json(method: string, path: string, expected: number, opts: { headers?: Record<string, string>; body?: string } = {}): Promise<unknown> {
    const answer = await this.request(method, path, opts);
    if (answer.status !== expected) {
      throw new Error(`${method} ${path} answered ${answer.status} (expected ${expected}): ${answer.body.slice(0, 300)}`);
    }
    return JSON.parse(answer.body);
  }

  /** Closes every connection; requests still waiting fail. */
  close(): void {
    this.closed = true;
    for (const connection of this.all) connection.close();
    this.all.clear();
    this.idle.length = 0;
    for (const pending of this.waiting.splice(0)) pending.reject(new Error(`${pending.what}: the client was closed`));
  }

  private dispatch(pending: Pending): void {
    let connection = this.idle.pop();
    while (connection !== undefined && connection.closed) connection = this.idle.pop();
    if (connection !== undefined) {
      connection.send(pending);
      return;
    }
    this.waiting.push(pending);
    this.replenish();
  }

  /** Opens a connection when requests wait and the pool has room (also after one ended). */
  private replenish(): void {
    if (!this.closed && this.waiting.length > 0 && this.liveConnections() + this.connecting < this.maxSockets) this.open();
  }

  private liveConnections(): number {
    let live = 0;
    for (const connection of this.all) {
      if (connection.closed) this.all.delete(connection);
      else live += 1;
    }
    return live;
  }

  private open(): void {
    this.connecting += 1;
    const socket = connect({ host: this.base.hostname, port: Number(this.base.port || 80) });
    const refused = (error: Error): void => {
      this.connecting -= 1;
      const pending = this.waiting.shift();
      pending?.reject(new Error(`${pending.what}: ${error.message}`, { cause: error }));
      // Each request still waiting gets its own attempt (and its own error if the server is gone).
      this.replenish();
    };
    socket.once('error', refused);
    socket.once('connect', () => {
      socket.off('error', refused);
      this.connecting -= 1;
      const connection = new Connection(
        socket,
        (c) => this.release(c),
        () => this.replenish(),
      );
      this.all.add(connection);
      this.release(connection);
    });
  }

  /** A connection is free: it takes the next waiting request, or waits itself. */
  private release(connection: Connection): void {
    if (this.closed) {
      connection.close();
      return;
    }
    const next = this.waiting.shift();
    if (next !== undefined) connection.send(next);
    else this.idle.push(connection);
  }
}
