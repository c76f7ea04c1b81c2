// A stand-in for api.anthropic.com on loopback: fixed answers with realistic `usage`, no work.
import http from 'node:http';

const message = JSON.stringify({
  id: 'msg_bench', type: 'message', role: 'assistant', model: 'claude-haiku-4-5',
  content: [{ type: 'text', text: 'Hello from the mock upstream.' }],
  stop_reason: 'end_turn', stop_sequence: null,
  usage: { input_tokens: 12, output_tokens: 9, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
});

const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    const body = req.url?.startsWith('/v1/messages/count_tokens') ? '{"input_tokens":12}' : message;
    res.writeHead(200, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      'request-id': 'req_bench',
      'anthropic-ratelimit-requests-limit': '100000',
    });
    res.end(body);
  });
});
server.keepAliveTimeout = 65_000;
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  const address = server.address();
  console.log(`listening ${typeof address === 'object' && address ? address.port : ''}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
