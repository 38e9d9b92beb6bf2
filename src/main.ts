// wecom-syncer: flags and wiring only. docs/operating.md lists the flags.
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { collectDefaultMetrics } from 'prom-client';
import { buildOperator } from './operator.ts';
import { defaultIdentity, kubeLeaseStore, LeaderElector, leaseNamespace } from './runtime/index.ts';
import { SharedConnectionsKubeConfig } from './runtime/kube-config.ts';
import { buildInfoMetric, leaderElectionMetric } from './runtime/metrics.ts';
import { parseGoDuration } from './shared/duration.ts';

/** The version in package.json, which the image ships beside dist/ as the checkout has it beside src/. */
const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

const USAGE = `usage: wecom-syncer [--namespace NS]... [--concurrency N] [--log-level LEVEL]
                    [--metrics-bind-address ADDR] [--health-probe-bind-address ADDR] [--webhook-bind-address ADDR]
                    [--leader-elect [--leader-election-namespace NS] [--leader-election-id wecom-syncer-leader]
                     [--leader-election-lease-duration 15s]
                     [--leader-election-renew-deadline 10s] [--leader-election-retry-period 2s]]`;

function parseFlags() {
  const { values } = parseArgs({
    options: {
      namespace: { type: 'string', multiple: true, default: [] },
      'leader-elect': { type: 'boolean', default: false },
      'leader-election-namespace': { type: 'string' },
      // The Lease that replicas elect their leader on, in --leader-election-namespace.
      'leader-election-id': { type: 'string', default: 'wecom-syncer-leader' },
      'leader-election-lease-duration': { type: 'string', default: '15s' },
      'leader-election-renew-deadline': { type: 'string', default: '10s' },
      'leader-election-retry-period': { type: 'string', default: '2s' },
      'metrics-bind-address': { type: 'string', default: ':8080' },
      'health-probe-bind-address': { type: 'string', default: ':8081' },
      'webhook-bind-address': { type: 'string', default: ':9292' },
      concurrency: { type: 'string', default: '4' },
      'log-level': { type: 'string', default: 'info' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const concurrency = Number(values.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error(`--concurrency must be a whole number of 1 or more, not "${values.concurrency}"`);
  const durationMs = (flag: 'leader-election-lease-duration' | 'leader-election-renew-deadline' | 'leader-election-retry-period'): number => {
    try {
      return parseGoDuration(values[flag]);
    } catch (error) {
      throw new Error(`--${flag}: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
  const election = {
    leaseDurationMs: durationMs('leader-election-lease-duration'),
    renewDeadlineMs: durationMs('leader-election-renew-deadline'),
    retryPeriodMs: durationMs('leader-election-retry-period'),
  };
  return { ...values, concurrency, election };
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
  // One connection pool for every API call, not a TLS connection per request (see kube-config.ts).
  const kc = new SharedConnectionsKubeConfig();
  kc.loadFromDefault();
  let elector: LeaderElector | undefined;
  if (flags['leader-elect']) {
    const namespace = leaseNamespace(flags['leader-election-namespace']);
    if (!namespace) throw new Error('--leader-elect needs --leader-election-namespace (or POD_NAMESPACE) outside a cluster');
    elector = new LeaderElector({
      leases: kubeLeaseStore(kc, namespace, flags['leader-election-id']),
      identity: defaultIdentity(),
      logger,
      ...flags.election,
      // As controller-runtime does: a former leader must not go on reconciling, and a restart makes it a follower.
      onLost: () => process.exit(1),
    });
    elector.start();
  }
  const webhook = bindAddress(flags['webhook-bind-address'], '--webhook-bind-address');
  const { manager, registry, callback } = buildOperator({
    kc, logger, namespaces: flags.namespace, concurrency: flags.concurrency, callback: webhook !== undefined, ...(elector && { elected: elector.elected }),
  });
  buildInfoMetric(registry, 'wecom_syncer_build_info', { version: VERSION, nodejs: process.version });
  if (elector) leaderElectionMetric(registry, flags['leader-election-id'], elector.elected);

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

  if (webhook && callback) {
    // Every replica serves WeCom's events, leader or not: the mark each leaves reaches the leader.
    await listen(callback.server, webhook);
    servers.push(callback.server);
  }

  // The runtime's timers are unref'd (a requeue must not hold up a stopping process), and idle
  // pooled connections are too: while the API server is down and the informers back off, nothing
  // else keeps the event loop alive, and the operator would exit 0. This does, until process.exit.
  setInterval(() => {}, 2 ** 30);
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    // Release only once the controllers have stopped: a successor must not start while our syncs still run.
    // No event is taken in that could then be lost: the receiver closes first, and what it took is marked.
    callback?.server.close();
    void manager.stop().then(() => callback?.marker.flush()).then(() => elector?.release()).then(() => {
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
