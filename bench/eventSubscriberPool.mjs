// Holds N subscribers of a gateway's event stream, reading (and dropping) what arrives:
//   node bench/eventSubscriberPool.mjs PORT TOKEN N
// Prints "ready" once every one has its "ready" event; runs until killed.
import http from 'node:http';

const [port, token, count] = [Number(process.argv[2]), process.argv[3], Number(process.argv[4])];
const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });

function subscribe() {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/v1/conduit/events', agent, headers: { 'x-conduit-token': token } }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`events: status ${res.statusCode}`));
      // "ready" is the first event: from then on what arrives is only read and dropped.
      let head = '';
      const untilReady = (c) => {
        head += c;
        if (!head.includes('event: ready')) return;
        res.off('data', untilReady);
        res.resume();
        resolve();
      };
      res.on('data', untilReady);
      res.on('close', () => reject(new Error('events: closed')));
    });
    req.on('error', reject);
  });
}

try {
  await Promise.all(Array.from({ length: count }, subscribe));
  console.log('ready');
} catch (err) {
  console.log(`failed: ${err.message}`);
  process.exit(1);
}
