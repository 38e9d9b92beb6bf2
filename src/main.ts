// wecom-syncer: flags and wiring only. See README.md for the flags.
import { KubeConfig } from '@kubernetes/client-node';
import { createServer, type Server } from 'node:http';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { collectDefaultMetrics } from 'prom-client';
import { buildOperator } from './operator.ts';

const USAGE = `usage: wecom-syncer [--namespace NS]... [--concurrency N] [--log-level LEVEL]
                    [--metrics-bind-address ADDR] [--health-probe-bind-address ADDR]`;

function parseFlags() {
  const { values } = parseArgs({
    options: {
      namespace: { type: 'string', multiple: true, default: [] },
      'leader-elect': { type: 'boolean', default: false },
      'leader-election-namespace': { type: 'string' },
      'metrics-bind-address': { type: 'string', default: ':8080' },
      'health-probe-bind-address': { type: 'string', default: ':8081' },
      concurrency: { type: 'string', default: '4' },
      'log-level': { type: 'string', default: 'info' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const concurrency = Number(values.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error(`--concurrency must be a whole number of 1 or more, not "${values.concurrency}"`);
  return { ...values, concurrency };
}

/** Parses `:8080`, `127.0.0.1:8080` or `0` (disabled) into a listen target. */
function bindAddress(text: string, flag: string): { host?: string; port: number } | undefined {
  if (text === '0') return undefined;
  const match = /^(.*):(\d+)$/.exec(text);
  if (!match) throw new Error(`${flag} must look like :8080 or 127.0.0.1:8080 (0 disables it), not "${text}"`);
  return { ...(match[1] && { host: match[1] }), port: Number(match[2]) };
}

function listen(server: Server, target: { host?: string; port: number }): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(target.port, target.host, () => resolve());
  });
}

async function main(): Promise<void> {
  const flags = parseFlags();
  if (flags.help) {
    console.log(USAGE);
    return;
  }
  const logger = pino({ level: flags['log-level'], base: { component: 'wecom-syncer' } });
  if (flags['leader-elect']) {
    throw new Error('--leader-elect is not available yet; run a single replica');
  }
  const kc = new KubeConfig();
  kc.loadFromDefault();
  const { manager, registry } = buildOperator({ kc, logger, namespaces: flags.namespace, concurrency: flags.concurrency });

  const servers: Server[] = [];
  const probes = bindAddress(flags['health-probe-bind-address'], '--health-probe-bind-address');
  if (probes) {
    const server = createServer((request, response) => {
      if (request.url === '/healthz') return void response.writeHead(200).end('ok');
      if (request.url === '/readyz') {
        const ready = manager.ready();
        response.writeHead(ready ? 200 : 503, { 'content-type': 'application/json' });
        return void response.end(JSON.stringify({ ready, informers: manager.informerStatuses() }));
      }
      response.writeHead(404).end();
    });
    await listen(server, probes);
    servers.push(server);
  }
  const metrics = bindAddress(flags['metrics-bind-address'], '--metrics-bind-address');
  if (metrics) {
    collectDefaultMetrics({ register: registry });
    const server = createServer((request, response) => {
      if (request.url !== '/metrics') return void response.writeHead(404).end();
      // A rejected scrape must answer 500, not crash the process as an unhandled rejection would.
      registry.metrics().then(
        (text) => response.writeHead(200, { 'content-type': registry.contentType }).end(text),
        (error: unknown) => response.writeHead(500).end(`collecting metrics failed: ${error instanceof Error ? error.message : String(error)}\n`),
      );
    });
    await listen(server, metrics);
    servers.push(server);
  }

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    void manager.stop().then(() => {
      for (const server of servers) server.close();
      process.exit(0);
    });
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  logger.info({ namespaces: flags.namespace.length > 0 ? flags.namespace : 'all', concurrency: flags.concurrency }, 'starting');
  await manager.start();
}

main().catch((error: unknown) => {
  console.error(`wecom-syncer: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
