// The benchmark's stand-in provider: reads the whole request, answers a fixed Anthropic
// SSE stream (or JSON when stream is false). Prints its port on stdout. A request whose
// metadata.user_id is "bench-deltas-N" gets N text deltas instead of five (a long reply,
// for the CPU the usage tap spends per event).
import http from 'node:http';

const events = [
  ['message_start', { type: 'message_start', message: { id: 'msg_bench', type: 'message', role: 'assistant', model: 'claude-sonnet-4-5', content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 1200, cache_creation_input_tokens: 0, cache_read_input_tokens: 800, cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 }, output_tokens: 1, service_tier: 'standard' } } }],
  ['content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }],
  ['ping', { type: 'ping' }],
  ...['Hello', ' from', ' the', ' bench', ' upstream.'].map((t) => ['content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: t } }]),
  ['content_block_stop', { type: 'content_block_stop', index: 0 }],
  ['message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 12 } }],
  ['message_stop', { type: 'message_stop' }],
];
const sse = Buffer.from(events.map(([e, d]) => `event: ${e}\ndata: ${JSON.stringify(d)}\n\n`).join(''));

const frame = ([e, d]) => `event: ${e}\ndata: ${JSON.stringify(d)}\n\n`;
const longReplies = new Map();
/** The stream with `n` text deltas, built once per n. */
function longReply(n) {
  let reply = longReplies.get(n);
  if (!reply) {
    const delta = frame(['content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: ' token' } }]);
    reply = Buffer.from(events.slice(0, 3).map(frame).join('') + delta.repeat(n) + events.slice(-3).map(frame).join(''));
    longReplies.set(n, reply);
  }
  return reply;
}

const server = http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
  let head = '';
  req.on('data', (c) => { if (head.length < 65536) head += c; });
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'request-id': 'req_bench' });
    const deltas = /"user_id":"bench-deltas-(\d+)"/.exec(head);
    const reply = deltas ? longReply(Number(deltas[1])) : sse;
    // Two writes, as a real stream arrives in pieces.
    res.write(reply.subarray(0, 600));
    res.end(reply.subarray(600));
  });
});
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
