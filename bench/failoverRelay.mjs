// What conduit-claude's failover relay (src/conduit/wrapper/failoverRelay.ts) adds to a
// request: claude -> relay -> gateway against claude -> gateway, the "gateway" a local
// server answering a streamed reply at once (so the hop itself is all that differs; a real
// reply takes seconds). Sequential requests as claude sends them, a Claude Code-sized body.
// Prints the median and p95 per request each way, their ratio and the added milliseconds.
//   node --import tsx bench/failoverRelay.mjs [requests=400] [bodyKB=60]
import http from 'node:http';
import { once } from 'node:events';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { FailoverRelay } = require('../src/conduit/wrapper/failoverRelay.ts');

const requests = Number(process.argv[2] ?? 400);
const body = Buffer.alloc(Number(process.argv[3] ?? 60) * 1024, 'a');
const reply = Array.from({ length: 40 }, (_, i) => `event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"chunk ${i}"}}\n\n`);

const gateway = http.createServer((req, res) => {
  req.resume();
  req.once('end', () => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    for (const e of reply) res.write(e);
    res.end();
  });
});
gateway.listen(0, '127.0.0.1');
await once(gateway, 'listening');
const gatewayPort = gateway.address().port;
const relay = await FailoverRelay.start({ gatewayPort, directBaseUrl: 'http://127.0.0.1:9', accessToken: 'bench-token', accessTokenLent: () => false, onFailover: () => undefined });
const agent = new http.Agent({ keepAlive: true });

function post(port) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/messages', agent, headers: { 'content-type': 'application/json', 'content-length': body.length } }, (res) => {
      res.resume();
      res.once('end', () => resolve(Number(process.hrtime.bigint() - started) / 1e6));
    });
    req.once('error', reject);
    req.end(body);
  });
}

async function times(port) {
  const out = [];
  for (let i = 0; i < requests; i++) out.push(await post(port));
  return out.sort((a, b) => a - b);
}
const pct = (xs, p) => xs[Math.min(xs.length - 1, Math.floor(xs.length * p))];

const relayPort = Number(new URL(relay.url).port);
await times(gatewayPort); // warm-up
await times(relayPort);
const direct = await times(gatewayPort);
const relayed = await times(relayPort);
console.log(`requests: ${requests} sequential, body ${body.length / 1024} KB, reply ${reply.length} SSE events`);
console.log(`gateway directly: median ${pct(direct, 0.5).toFixed(3)} ms, p95 ${pct(direct, 0.95).toFixed(3)} ms`);
console.log(`through the relay: median ${pct(relayed, 0.5).toFixed(3)} ms, p95 ${pct(relayed, 0.95).toFixed(3)} ms`);
console.log(`ratio (median): ${(pct(relayed, 0.5) / pct(direct, 0.5)).toFixed(2)}x; added per request: ${(pct(relayed, 0.5) - pct(direct, 0.5)).toFixed(3)} ms (median), ${(pct(relayed, 0.95) - pct(direct, 0.95)).toFixed(3)} ms (p95)`);
relay.close();
agent.destroy();
gateway.close();
