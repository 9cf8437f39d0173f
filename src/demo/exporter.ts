/**
 * The demo's Prometheus exporter: GET /metrics on 127.0.0.1 answers the simulated network latency each dependant
 * pod observes (demo_dependency_latency_seconds{namespace,pod,app}), which Prometheus scrapes and the network
 * scenario's policies read through PromQL.
 */
import { createServer, type Server } from 'node:http';

/** A running exporter. */
export interface RunningExporter {
  /** host:port, for the scrape configuration. */
  readonly address: string;
  close(): Promise<void>;
}

/** Serves `exposition()` at /metrics on 127.0.0.1:`port` (0: any free port). */
export async function startExporter(exposition: () => string, port = 0): Promise<RunningExporter> {
  const server: Server = createServer((req, res) => {
    if (req.method === 'GET' && (req.url ?? '').split('?')[0] === '/metrics') {
      res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' });
      res.end(exposition());
      return;
    }
    res.writeHead(404, { 'Content-Type': 'text/plain' });
    res.end('not found\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const addr = server.address();
  const actual = typeof addr === 'object' && addr !== null ? addr.port : port;
  return {
    address: `127.0.0.1:${actual}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
