/**
 * A tiny real HTTP server that answers canned responses, for testing how the client builds
 * requests and parses answers (status codes, problem+json, broken bodies). Not a broker: the
 * lifecycle tests run against the real one (test/helpers/broker.ts).
 */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as the server saw it. */
export interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** Answers one request; may leave `res` open to simulate a server that never answers. */
export type Responder = (req: SeenRequest, res: ServerResponse) => void;

export interface FakeServer {
  readonly url: string;
  readonly seen: SeenRequest[];
  /** Answer for the next requests (the last one set stays in force). */
  respond(responder: Responder): void;
  close(): Promise<void>;
}

/** Sends `body` as JSON with `status` and content type. */
export function json(res: ServerResponse, status: number, body: unknown, contentType = 'application/json'): void {
  res.writeHead(status, { 'content-type': contentType });
  res.end(JSON.stringify(body));
}

export async function startFakeServer(): Promise<FakeServer> {
  const seen: SeenRequest[] = [];
  let responder: Responder = (_req, res) => json(res, 200, {});
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      const request: SeenRequest = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body };
      seen.push(request);
      responder(request, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    respond(r) {
      responder = r;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
