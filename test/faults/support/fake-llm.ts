/**
 * A misbehaving OpenAI-compatible chat endpoint on 127.0.0.1 for fault tests: it hangs (accepts the request and never
 * answers), answers garbage, or answers hostile content that quotes back the credentials it was sent (so a test can
 * prove the operator never logs what a model says about its key). It records the Authorization headers it received,
 * which proves the operator really sent the key it holds.
 */
import http from 'node:http';
import type net from 'node:net';

/** How the endpoint answers. */
export type LlmMode = 'hang' | 'garbage' | 'hostile' | 'error';

/** A running fake endpoint. */
export interface FakeLlm {
  readonly url: string;
  mode: LlmMode;
  /** Requests received, by mode. */
  readonly received: Record<LlmMode, number>;
  /** Authorization header values received. */
  readonly authorizations: string[];
  close(): Promise<void>;
}

/** Garbage of several kinds, cycled through. */
const GARBAGE = [
  'not json at all',
  '{"choices": []}',
  '{"choices": [{"message": {"content": "```json\\n{\\"action\\": \\"rm -rf /\\", \\"confidence\\": 7}\\n```"}}]}',
  '{"choices": [{"message": {"content": "{\\"action\\": \\"restart\\", \\"target\\": {\\"kind\\": \\"Node\\", \\"name\\": \\"kwok-node-1\\"}, \\"confidence\\": 0.99}"}}]}',
  '\u0000\u0001\u0002 binary',
  '{"choices": [{"message": {"content": null}}]}',
];

/** Starts the endpoint in `mode`. */
export async function startFakeLlm(mode: LlmMode): Promise<FakeLlm> {
  const sockets = new Set<net.Socket>();
  let n = 0;
  const llm: FakeLlm = {
    url: '',
    mode,
    received: { hang: 0, garbage: 0, hostile: 0, error: 0 },
    authorizations: [],
    close: () =>
      new Promise<void>((resolve) => {
        sockets.forEach((s) => s.destroy());
        server.close(() => resolve());
      }),
  };
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const auth = req.headers['authorization'] ?? '';
      llm.authorizations.push(auth);
      llm.received[llm.mode]++;
      switch (llm.mode) {
        case 'hang':
          return; // never answers; the socket stays open until the client gives up
        case 'garbage':
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(GARBAGE[n++ % GARBAGE.length]);
          return;
        case 'hostile': {
          // A model (or a compromised proxy) that repeats the credentials and the prompt back, in every field.
          const content = JSON.stringify({ action: `restart ${auth}`, target: { kind: 'Pod', namespace: auth, name: auth }, confidence: 0.9, reasoning: [`your key is ${auth}`, body.slice(0, 200)] });
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ choices: [{ message: { role: 'assistant', content } }], error: { message: `invalid api key ${auth}` } }));
          return;
        }
        case 'error':
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: { message: `upstream failure for ${auth}`, type: 'server_error' } }));
          return;
      }
    });
  });
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return Object.assign(llm, { url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}` });
}
