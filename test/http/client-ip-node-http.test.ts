import { createServer, type IncomingMessage, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClientIpResolver, type RequestFacts } from '../../src/index.js';

/** RequestFacts from a real node:http request, as an adapter would build them. */
function factsOf(request: IncomingMessage): RequestFacts {
  return {
    method: request.method ?? 'GET',
    path: (request.url ?? '/').split('?')[0]!,
    socketAddress: request.socket.remoteAddress,
    header: (name) => {
      const value = request.headers[name];
      return Array.isArray(value) ? value.join(', ') : value;
    },
  };
}

const loopbackResolver = createClientIpResolver({ trustProxy: 'loopback' });
const defaultResolver = createClientIpResolver({ warn: () => {} });

let server: Server;
let port: number;

beforeAll(async () => {
  server = createServer((request, response) => {
    const facts = factsOf(request);
    response.setHeader('content-type', 'application/json');
    response.end(JSON.stringify({ loopback: loopbackResolver.key(facts), direct: defaultResolver.key(facts) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** Sends raw request headers (so they can repeat) and returns the parsed JSON body. */
function rawRequest(headerLines: string[]): Promise<{ loopback: string; direct: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk) => (data += chunk));
    socket.on('error', reject);
    socket.on('end', () => {
      const body = data.slice(data.indexOf('\r\n\r\n') + 4);
      resolve(JSON.parse(body) as { loopback: string; direct: string });
    });
    socket.write(['GET / HTTP/1.1', 'Host: localhost', 'Connection: close', ...headerLines, '', ''].join('\r\n'));
  });
}

describe('client IP on a real node:http server', () => {
  it('keys the loopback socket peer when no header is sent', async () => {
    expect(await rawRequest([])).toEqual({ loopback: '127.0.0.1', direct: '127.0.0.1' });
  });

  it('walks X-Forwarded-For from the loopback peer; the default ignores it', async () => {
    expect(await rawRequest(['X-Forwarded-For: 198.51.100.1, 203.0.113.7'])).toEqual({ loopback: '203.0.113.7', direct: '127.0.0.1' });
  });

  it('repeated X-Forwarded-For headers are read as one list, the last one nearest the server', async () => {
    const result = await rawRequest(['X-Forwarded-For: 198.51.100.1', 'X-Forwarded-For: 203.0.113.7, 127.0.0.9']);
    expect(result.loopback).toBe('203.0.113.7');
  });

  it('repeated Forwarded headers are read as one list', async () => {
    const result = await rawRequest(['Forwarded: for=198.51.100.1', 'Forwarded: for="[2001:db8:cafe::17]:4711", for=127.0.0.2']);
    expect(result.loopback).toBe('2001:db8:cafe::/56');
  });

  it('many repeated headers and a large header value stay cheap and correct', async () => {
    const spoofed = Array.from({ length: 200 }, (_, i) => `X-Forwarded-For: 198.51.${i % 256}.1`);
    const result = await rawRequest([...spoofed, `X-Forwarded-For: ${'9'.repeat(4000)}`, 'X-Forwarded-For: 203.0.113.7']);
    expect(result).toEqual({ loopback: '203.0.113.7', direct: '127.0.0.1' });
  });
});
