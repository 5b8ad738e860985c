import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import type { JSONWebKeySet } from 'jose';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';

import { createIdentityVerifier } from '../../src/adapters/identity-jwt/index.js';
import type { IssuerConfig } from '../../src/config/types.js';
import { ManualClock } from '../../src/ports/clock.js';
import { expectUnauthenticated, githubIssuer, jwksOf, secondsOf, sign, testKey, type TestKey } from './fixtures.js';

/** A JWKS endpoint on 127.0.0.1 that counts its requests. `respond` decides what it sends. */
interface JwksServer {
  readonly url: string;
  readonly requests: () => number;
  stop(): Promise<void>;
}

const running: Server[] = [];

async function startJwksServer(respond: (res: import('node:http').ServerResponse) => void): Promise<JwksServer> {
  let count = 0;
  const server = createServer((_req, res) => {
    count += 1;
    respond(res);
  });
  running.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    requests: () => count,
    stop: () => stopServer(server),
  };
}

function stopServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    // fetch keeps connections alive; close them so the port really stops answering.
    server.closeAllConnections();
  });
}

const serveJwks = (jwks: JSONWebKeySet) => (res: import('node:http').ServerResponse) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(jwks));
};

let key: TestKey;
const clock = new ManualClock();
const claims = () => {
  const now = secondsOf(clock.now());
  return { iss: 'https://token.actions.githubusercontent.com', aud: 'stint', sub: 'repo:acme/deploy', repository: 'acme/deploy', repository_owner: 'acme', iat: now, exp: now + 300 };
};
const remoteIssuer = (jwksUrl: string): IssuerConfig => githubIssuer('unused', { jwksFile: undefined, jwksUrl });

beforeAll(async () => {
  key = await testKey('EdDSA');
});

afterEach(async () => {
  await Promise.all(running.splice(0).map(stopServer));
});

describe('identity verifier: remote JWKS', () => {
  it('verifies with downloaded keys, and keeps verifying from the cache after the endpoint goes down', async () => {
    const server = await startJwksServer(serveJwks(jwksOf(key)));
    const verifier = createIdentityVerifier({ issuers: [remoteIssuer(server.url)], clock });
    const token = await sign(key, claims());

    await expect(verifier.verify(token)).resolves.toMatchObject({ id: 'workload:acme/deploy', issuer: 'github' });
    expect(server.requests()).toBe(1);

    await server.stop();
    await expect(verifier.verify(token)).resolves.toMatchObject({ id: 'workload:acme/deploy' });
    await expect(verifier.verify(await sign(key, { ...claims(), jti: 'second' }))).resolves.toMatchObject({ id: 'workload:acme/deploy' });
    expect(server.requests()).toBe(1);

    // A key the cache does not hold is refused (within jose's 30 s cooldown no download is tried).
    const stranger = await testKey('EdDSA');
    await expectUnauthenticated(verifier.verify(await sign(stranger, claims())), 'no matching key in jwks');
  });

  it('fails closed when the endpoint is down and nothing is cached', async () => {
    const server = await startJwksServer(serveJwks(jwksOf(key)));
    await server.stop();
    const verifier = createIdentityVerifier({ issuers: [remoteIssuer(server.url)], clock });
    await expectUnauthenticated(verifier.verify(await sign(key, claims())), /^jwks unavailable: /);
  });

  it('fails closed when the endpoint answers with an error status', async () => {
    const server = await startJwksServer((res) => {
      res.writeHead(503);
      res.end('down for maintenance');
    });
    const verifier = createIdentityVerifier({ issuers: [remoteIssuer(server.url)], clock });
    await expectUnauthenticated(verifier.verify(await sign(key, claims())), /^jwks unavailable: .*200/);
    expect(server.requests()).toBe(1);
  });

  it('fails closed when the endpoint does not answer in time', async () => {
    const server = await startJwksServer(() => {
      // never answers
    });
    const verifier = createIdentityVerifier({ issuers: [remoteIssuer(server.url)], clock, fetchTimeoutMs: 100 });
    await expectUnauthenticated(verifier.verify(await sign(key, claims())), 'jwks unavailable: timeout');
  });

  it('fails closed when the endpoint serves something that is not a key set', async () => {
    const server = await startJwksServer((res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"keys": "nope"}');
    });
    const verifier = createIdentityVerifier({ issuers: [remoteIssuer(server.url)], clock });
    await expectUnauthenticated(verifier.verify(await sign(key, claims())), /^jwks unavailable: /);
  });
});
