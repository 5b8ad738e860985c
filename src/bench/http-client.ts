/**
 * A minimal keep-alive HTTP/1.1 client for load generation: node:http with a pooled agent
 * (one socket per concurrent caller, reused), so each request costs one round trip and no
 * TCP handshake, as with a real client library. No retries: a failed request fails the run.
 */
import http from 'node:http';

/** Status and body text of one response. */
export interface HttpAnswer {
  readonly status: number;
  readonly body: string;
}

/** Keep-alive client bound to one base URL. */
export class KeepAliveClient {
  private readonly agent: http.Agent;
  private readonly base: URL;

  constructor(baseUrl: string, maxSockets: number) {
    this.base = new URL(baseUrl);
    this.agent = new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
  }

  /** Sends one request; resolves with the whole response body. */
  request(method: string, path: string, opts: { headers?: Record<string, string>; body?: string } = {}): Promise<HttpAnswer> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string | number> = { ...opts.headers };
      if (opts.body !== undefined) headers['content-length'] = Buffer.byteLength(opts.body);
      const req = http.request(
        { agent: this.agent, hostname: this.base.hostname, port: this.base.port, method, path, headers },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      // Say which request failed and whether on a reused keep-alive socket (a server closing an
      // idle socket just as a request goes out shows up as "socket hang up" on a reused one).
      req.on('error', (error) => reject(new Error(`${method} ${path}: ${error.message}${req.reusedSocket ? ' (on a reused keep-alive socket)' : ''}`, { cause: error })));
      req.end(opts.body);
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

  /** Closes the pooled sockets. */
  close(): void {
    this.agent.destroy();
  }
}
