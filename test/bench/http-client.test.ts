/**
 * The bench's lean HTTP/1.1 client (src/bench/http-client.ts) against a real node:http server:
 * content-length and chunked bodies, split across packets, keep-alive reuse, a server that
 * closes the connection, and an error that names the request.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeepAliveClient } from '../../src/bench/http-client.js';

describe('KeepAliveClient', () => {
  let server: Server;
  let url: string;
  const sockets = new Set<unknown>();
  beforeAll(async () => {
    server = createServer((req, res) => {
      sockets.add(req.socket);
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        if (req.url === '/chunked') {
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.write('héllo ');
          setImmediate(() => res.end('wörld'));
        } else if (req.url === '/close') {
          res.writeHead(201, { connection: 'close', 'content-length': 2 });
          res.end('ok');
        } else if (req.url === '/empty') {
          res.writeHead(204);
          res.end();
        } else {
          const text = JSON.stringify({ method: req.method, body, auth: req.headers.authorization ?? null, big: 'x'.repeat(100_000) });
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
          res.end(text);
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('reads content-length and chunked bodies, reuses its sockets, and survives a server closing one', async () => {
    const client = new KeepAliveClient(url, 2);
    try {
      const answers = await Promise.all(
        Array.from({ length: 10 }, (_, i) => client.json('POST', '/echo', 200, { headers: { authorization: 'Bearer t' }, body: JSON.stringify({ i, text: 'ü' }) })),
      );
      answers.forEach((a, i) => expect(a).toMatchObject({ method: 'POST', body: JSON.stringify({ i, text: 'ü' }), auth: 'Bearer t' }));
      expect((answers[0] as { big: string }).big).toHaveLength(100_000);
      expect(sockets.size).toBeLessThanOrEqual(2);
      expect(await client.request('GET', '/chunked')).toEqual({ status: 200, body: 'héllo wörld' });
      expect(await client.request('GET', '/empty')).toEqual({ status: 204, body: '' });
      expect(await client.request('GET', '/close')).toEqual({ status: 201, body: 'ok' });
      expect(await client.request('GET', '/chunked')).toEqual({ status: 200, body: 'héllo wörld' });
      // Requests waiting while connections close under them are carried by new ones.
      const mixed = await Promise.all(['/close', '/chunked', '/close', '/chunked', '/close'].map((path) => client.request('GET', path)));
      expect(mixed.map((a) => a.status)).toEqual([201, 200, 201, 200, 201]);
      await expect(client.json('GET', '/empty', 200)).rejects.toThrow('GET /empty answered 204 (expected 200)');
    } finally {
      client.close();
    }
  });

  it('names the request when the server cannot be reached', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const client = new KeepAliveClient(`http://127.0.0.1:${port}`, 1);
    await expect(client.request('GET', '/x')).rejects.toThrow(/^GET \/x: .*ECONNREFUSED/);
    // Requests queued behind a refused connection each get their own answer, none hangs.
    const queued = await Promise.allSettled(['/a', '/b', '/c'].map((path) => client.request('GET', path)));
    expect(queued.map((r) => (r.status === 'rejected' ? String(r.reason.message).split(':')[0] : 'fulfilled'))).toEqual(['GET /a', 'GET /b', 'GET /c']);
    client.close();
  });
});
