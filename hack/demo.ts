// `make demo`: the whole product on this machine. A local control plane in
// .run/demo, the WeCom simulator with the demo organization, a stand-in
// Casdoor, the CRDs, the Secrets, a WeComSyncer and a CasdoorServer, and the
// operator; it waits for both to be Ready, prints what was synced (in
// Kubernetes, and in Casdoor through its API) and what to try, and tears
// everything down on Ctrl-C or SIGTERM.
//
// `--exit-after-ready` (or DEMO_EXIT=1) tears down right after printing, for
// running the demo end to end without a terminal.
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, readFileSync, writeFileSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join, relative, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { down, freePort, up } from './control-plane/cluster.ts';
import { CasdoorClient } from '../src/casdoor/client.ts';
import { type CasdoorStandIn, startCasdoor } from '../test/support/casdoor/server.ts';
import { startSimulator, type Simulator } from '../test/support/simulator/server.ts';
import { isRecord } from '../test/support/simulator/org.ts';
import { tryText } from './demo/try.ts';

const ROOT = resolve(import.meta.dirname, '..');
const DIR = join(ROOT, '.run', 'demo');
const NAMESPACE = 'casdoor';
const SCENARIO = join(ROOT, 'test', 'support', 'simulator', 'scenarios', 'demo.json');
const SAMPLE = join(ROOT, 'deploy', 'samples', 'wecomsyncer.yaml');
const OPERATOR_LOG = join(DIR, 'operator.log');
const OPERATOR_PID = join(DIR, 'operator.pid');
const READY_TIMEOUT_S = 90;
const LOOPBACK = '127.0.0.1';

const started = Date.now();
const elapsed = (): string => `${((Date.now() - started) / 1000).toFixed(1)} s`;
const say = (line: string): void => void process.stderr.write(`demo: ${line}\n`);
const print = (text: string): void => void process.stdout.write(text);

/** Thrown when Ctrl-C or SIGTERM arrives before the demo is up. */
class Interrupted extends Error {}

// Ctrl-C in the terminal also reaches the kubectl children; the control plane
// and the operator run in their own process groups and are stopped here, in order.
const interrupt = new AbortController();
let stopSignal: NodeJS.Signals | undefined;
const onSignal = (signal: NodeJS.Signals): void => {
  if (stopSignal) return say('still tearing down…');
  stopSignal = signal;
  interrupt.abort();
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

function checkInterrupt(): void {
  if (interrupt.signal.aborted) throw new Interrupted(`interrupted by ${stopSignal ?? 'a signal'}`);
}

interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

function kubectl(kubeconfig: string, args: string[], input = ''): Promise<KubectlResult> {
  return new Promise((resolveResult, reject) => {
    const child = spawn('kubectl', args, {
      env: { ...process.env, KUBECONFIG: kubeconfig },
      stdio: ['pipe', 'pipe', 'pipe'],
      signal: interrupt.signal,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', (error) => {
      if (interrupt.signal.aborted) return;
      reject(new Error(`kubectl: ${error.message}`));
    });
    child.on('close', (code) => resolveResult({ code: code ?? 1, stdout, stderr }));
    child.stdin.end(input);
  });
}

async function kubectlOk(kubeconfig: string, args: string[], input = ''): Promise<string> {
  const result = await kubectl(kubeconfig, args, input);
  checkInterrupt();
  if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed: ${result.stderr.trim()}`);
  return result.stdout;
}


function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

async function stopPid(pid: number, timeoutMs: number): Promise<void> {
  if (!alive(pid)) return;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + timeoutMs;
  while (alive(pid) && Date.now() < deadline) await sleep(50);
  if (alive(pid)) process.kill(pid, 'SIGKILL');
}

/** An operator left behind by a demo that was killed outright is stopped before a new one starts. */
async function stopStaleOperator(): Promise<void> {
  let pid: number;
  try {
    pid = Number.parseInt(await readFile(OPERATOR_PID, 'utf8'), 10);
  } catch {
    return;
  }
  let cmdline = '';
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return;
  }
  if (!cmdline.includes('src/main.ts')) return;
  say(`stopping the operator of an earlier demo (pid ${pid})`);
  await stopPid(pid, 10_000);
}

/** The sample WeComSyncer, pointed at the simulator. */
async function syncerManifest(sim: Simulator): Promise<{ manifest: Record<string, unknown>; name: string; secretName: string }> {
  const sample: unknown = parseYaml(await readFile(SAMPLE, 'utf8'));
  if (!isRecord(sample) || !isRecord(sample['metadata']) || !isRecord(sample['spec'])) throw new Error(`${SAMPLE}: not a WeComSyncer`);
  const { metadata, spec } = sample;
  const ref = spec['corpSecretRef'];
  const name = metadata['name'];
  if (typeof name !== 'string' || !isRecord(ref) || typeof ref['name'] !== 'string') throw new Error(`${SAMPLE}: no name or corpSecretRef.name`);
  const manifest = {
    ...sample,
    metadata: { ...metadata, namespace: NAMESPACE },
    spec: { ...spec, corpId: sim.corpId, apiURL: sim.url, interval: '5m' },
  };
  return { manifest, name, secretName: ref['name'] };
}

/** What is running, so teardown stops exactly that, in reverse order. */
interface Running {
  controlPlane?: true;
  sim?: Simulator;
  casdoor?: CasdoorStandIn;
  operator?: ChildProcess;
}

async function teardown(running: Running, keepDir: boolean): Promise<void> {
  say('tearing down');
  if (running.operator?.pid !== undefined) await stopPid(running.operator.pid, 15_000);
  if (running.sim) await running.sim.close().catch(() => {});
  if (running.casdoor) await running.casdoor.close().catch(() => {});
  if (running.controlPlane) await down(DIR);
  if (keepDir) say(`kept ${relative(process.cwd(), DIR) || DIR} for a look (the control plane is stopped)`);
  else await rm(DIR, { recursive: true, force: true });
}

/** The users of organization acme as Casdoor's API answers them, as a table. */
async function casdoorTable(casdoor: CasdoorStandIn): Promise<string> {
  const client = new CasdoorClient({ endpoint: casdoor.url, clientId: casdoor.app.clientId, clientSecret: casdoor.app.clientSecret });
  try {
    const users = await client.listUsers('acme');
    const rows = [['NAME', 'DISPLAY NAME', 'PHONE', 'FORBIDDEN', 'GROUPS', 'MANAGED BY']];
    for (const user of users) {
      rows.push([user.name, String(user['displayName'] ?? ''), `${String(user['phone'] ?? '')}${user['countryCode'] ? ` (${String(user['countryCode'])})` : ''}`,
        String(user['isForbidden'] ?? false), ((user['groups'] as string[] | null) ?? []).join(','), user.properties?.['casdoor.org/managed-by'] ?? '']);
    }
    const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => [...r[i]!].length)));
    return rows.map((r) => r.map((cell, i) => cell + ' '.repeat(widths[i]! - [...cell].length)).join('   ').trimEnd()).join('\n') + '\n';
  } finally {
    await client.close();
  }
}

async function tail(file: string, lines: number): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      'exit-after-ready': { type: 'boolean', default: false },
      'no-wait': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    print('usage: node hack/demo.ts [--exit-after-ready | --no-wait]   (or DEMO_EXIT=1)\n');
    return 0;
  }
  const exitAfterReady = values['exit-after-ready'] || values['no-wait'] || process.env['DEMO_EXIT'] === '1';
  const running: Running = {};
  let failed = false;
  try {
    // 1. The control plane (up() reuses whatever part of it is already running).
    await stopStaleOperator();
    running.controlPlane = true;
    const plane = await up(DIR, { log: (line) => say(`control plane: ${line}`) });
    const { kubeconfig } = plane;
    say(`control plane ready at ${plane.server} (${elapsed()})`);
    checkInterrupt();

    // 2. The WeCom simulator, in this process.
    const sim = await startSimulator({ scenarioFile: SCENARIO, port: 0 });
    running.sim = sim;
    say(`WeCom simulator at ${sim.url}: corp ${sim.corpId}, ${sim.org.members.length} members in ${sim.org.departments.length} departments`);
    const casdoor = await startCasdoor({ organizations: ['acme'] });
    running.casdoor = casdoor;
    say(`stand-in Casdoor at ${casdoor.url}: organization acme, application ${casdoor.app.name}`);

    // 3. The CRDs.
    await kubectlOk(kubeconfig, ['apply', '-f', join(ROOT, 'crds')]);
    await kubectlOk(kubeconfig, ['wait', '--for=condition=Established', '-f', join(ROOT, 'crds'), '--timeout=60s']);
    say(`CRDs established (${elapsed()})`);

    // 4. The namespace, the Secret and the WeComSyncer.
    const { manifest, name, secretName } = await syncerManifest(sim);
    const namespace = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } };
    await kubectlOk(kubeconfig, ['apply', '-f', '-'], JSON.stringify(namespace));
    const secret = {
      apiVersion: 'v1',
      kind: 'Secret',
      // The simulator is not WeCom's own API: the Secret's owner allows its origin.
      metadata: { name: secretName, namespace: NAMESPACE, annotations: { 'casdoor.org/allowed-urls': new URL(sim.url).origin } },
      type: 'Opaque',
      stringData: { corpSecret: sim.corpSecret },
    };
    // The Casdoor application's credentials, allowed to go to the stand-in only; and the CasdoorServer.
    const casdoorSecret = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'casdoor-app', namespace: NAMESPACE, annotations: { 'casdoor.org/allowed-urls': casdoor.url } },
      type: 'Opaque',
      stringData: { clientId: casdoor.app.clientId, clientSecret: casdoor.app.clientSecret },
    };
    const server = {
      apiVersion: 'casdoor.org/v1alpha1',
      kind: 'CasdoorServer',
      metadata: { name: 'main', namespace: NAMESPACE },
      spec: { endpoint: casdoor.url, credentialsRef: { name: 'casdoor-app' }, organizations: ['acme'] },
    };
    const list = { apiVersion: 'v1', kind: 'List', items: [secret, manifest, casdoorSecret, server] };
    await kubectlOk(kubeconfig, ['apply', '-f', '-'], JSON.stringify(list));
    say(`applied Secrets ${NAMESPACE}/${secretName} and ${NAMESPACE}/casdoor-app, WeComSyncer ${NAMESPACE}/${name} and CasdoorServer ${NAMESPACE}/main`);

    // 5. The operator, in its own process group: teardown stops it before the control plane.
    const metricsPort = await freePort();
    const probePort = await freePort();
    const log = openSync(OPERATOR_LOG, 'a');
    const operator = spawn(
      process.execPath,
      [
        join(ROOT, 'src', 'main.ts'),
        '--namespace', NAMESPACE,
        `--metrics-bind-address=${LOOPBACK}:${metricsPort}`,
        `--health-probe-bind-address=${LOOPBACK}:${probePort}`,
        '--webhook-bind-address=0',
      ],
      { cwd: ROOT, env: { ...process.env, KUBECONFIG: kubeconfig }, detached: true, stdio: ['ignore', log, log] },
    );
    running.operator = operator;
    if (operator.pid === undefined) throw new Error('could not start the operator');
    writeFileSync(OPERATOR_PID, `${operator.pid}\n`);
    const operatorExit = new Promise<string>((resolveExit) =>
      operator.once('exit', (code, signal) => resolveExit(signal ?? `code ${code}`)),
    );
    say(`operator started (pid ${operator.pid}), log in ${relative(process.cwd(), OPERATOR_LOG)}`);

    // 6. Ready, then what was synced and what to try.
    const ready = kubectl(kubeconfig, ['wait', '--for=condition=Ready', `wcs/${name}`, '-n', NAMESPACE, `--timeout=${READY_TIMEOUT_S}s`]);
    const outcome = await Promise.race([ready, operatorExit.then((how) => `exited: ${how}`)]);
    checkInterrupt();
    if (typeof outcome === 'string' || outcome.code !== 0) {
      const why = typeof outcome === 'string' ? `the operator ${outcome}` : outcome.stderr.trim();
      const status = await kubectl(kubeconfig, ['get', 'wcs', name, '-n', NAMESPACE, '-o', 'jsonpath={.status.conditions}']);
      throw new Error(`WeComSyncer ${name} not Ready: ${why}\nconditions: ${status.stdout}\noperator log (last lines):\n${await tail(OPERATOR_LOG, 20)}`);
    }
    say(`WeComSyncer ${NAMESPACE}/${name} is Ready (${elapsed()})`);
    const pushed = await kubectl(kubeconfig, ['wait', '--for=condition=Ready', 'cds/main', '-n', NAMESPACE, `--timeout=${READY_TIMEOUT_S}s`]);
    checkInterrupt();
    if (pushed.code !== 0) {
      const status = await kubectl(kubeconfig, ['get', 'cds', 'main', '-n', NAMESPACE, '-o', 'jsonpath={.status.conditions}']);
      throw new Error(`CasdoorServer main not Ready: ${pushed.stderr.trim()}\nconditions: ${status.stdout}\noperator log (last lines):\n${await tail(OPERATOR_LOG, 20)}`);
    }
    say(`CasdoorServer ${NAMESPACE}/main is Ready (${elapsed()})`);

    print('\n$ kubectl get wcs,cds,cu -A\n');
    print(await kubectlOk(kubeconfig, ['get', 'wcs,cds,cu', '-A']));
    print(`\n$ kubectl get cg -n ${NAMESPACE}\n`);
    print(await kubectlOk(kubeconfig, ['get', 'cg', '-n', NAMESPACE]));
    print(`\nThe users as Casdoor has them (GET ${casdoor.url}/api/get-users?owner=acme):\n`);
    print(await casdoorTable(casdoor));
    print('\n');
    print(
      tryText(sim.org, {
        kubeconfig,
        simulatorURL: sim.url,
        namespace: NAMESPACE,
        syncer: name,
        operatorLog: OPERATOR_LOG,
        metricsURL: `http://${LOOPBACK}:${metricsPort}/metrics`,
      }),
    );

    if (exitAfterReady) {
      say(`up in ${elapsed()}; exiting as asked (--exit-after-ready)`);
      return 0;
    }
    say(`up in ${elapsed()}. Ctrl-C tears everything down.`);
    const aborted = new Promise<string>((resolveAbort) =>
      interrupt.signal.addEventListener('abort', () => resolveAbort(stopSignal ?? 'signal'), { once: true }),
    );
    const ended = await Promise.race([aborted, operatorExit.then((how) => `operator exited (${how})`)]);
    if (!interrupt.signal.aborted) {
      say(`${ended}; see ${relative(process.cwd(), OPERATOR_LOG)}`);
      failed = true;
      return 1;
    }
    say(`got ${ended}`);
    return 0;
  } catch (error) {
    if (error instanceof Interrupted) {
      say(error.message);
      return 130;
    }
    failed = true;
    say(error instanceof Error ? error.message : String(error));
    return 1;
  } finally {
    await teardown(running, failed);
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    say(`teardown failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
