// The floor of any Node gateway on this machine: node:http piping bytes both ways, no
// parsing, keep-alive to the upstream. Usage: node bareProxy.mjs <upstream port>
import http from 'node:http';

const upstreamPort = Number(process.argv[2]);
const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
const server = http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
  const headers = { ...req.headers, host: `127.0.0.1:${upstreamPort}` };
  delete headers.connection;
  const up = http.request({ host: '127.0.0.1', port: upstreamPort, method: req.method, path: req.url, headers, agent }, (upRes) => {
    res.writeHead(upRes.statusCode, upRes.headers);
    upRes.pipe(res);
  });
  up.on('error', () => { res.writeHead(502); res.end(); });
  req.pipe(up);
});
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
