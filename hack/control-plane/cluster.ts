import { spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:https';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ensureBinaries, type Binaries } from './binaries.ts';

/** The components, in the order they start. `down` stops them in reverse. */
export const COMPONENTS = ['etcd', 'kube-apiserver', 'kube-controller-manager'] as const;
export type Component = (typeof COMPONENTS)[number];

/** What `up` chose the first time, kept in DIR/state.json so a restart reuses it. */
interface State {
  etcdClientPort: number;
  etcdPeerPort: number;
  apiserverPort: number;
  controllerManagerPort: number;
  adminToken: string;
  /** Extra kube-apiserver flags, e.g. a low --max-requests-inflight for fault tests. */
  apiserverArgs: string[];
}

/** Options of {@link up}. */
export interface UpOptions {
  /** Extra kube-apiserver flags; only used when DIR has no state yet. */
  apiserverArgs?: string[];
  log?: (line: string) => void;
}

/** A running control plane. */
export interface ControlPlane {
  dir: string;
  kubeconfig: string;
  server: string;
}

const LOOPBACK = '127.0.0.1';
const READY_TIMEOUT_MS = 60_000;

/**
 * Starts whatever part of the control plane in DIR is not running, on the
 * same data and ports as before, and returns once it serves requests.
 */
export async function up(dirArg: string, options: UpOptions = {}): Promise<ControlPlane> {
  const dir = resolve(dirArg);
  const log = options.log ?? (() => {});
  const binaries = await ensureBinaries(log);
  await mkdir(join(dir, 'certs'), { recursive: true });
  const state = await loadOrCreateState(dir, options.apiserverArgs ?? []);
  const kubeconfig = await writeKubeconfigFiles(dir, state);
  const server = `https://${LOOPBACK}:${state.apiserverPort}`;

  for (const component of COMPONENTS) {
    if (running(dir, component)) continue;
    log(`starting ${component}`);
    start(dir, component, commandLine(component, binaries, dir, state));
    await waitReady(component, dir, state);
  }
  // The serving certificate exists only once kube-apiserver has run, so the
  // kubeconfig is written again with the CA it generated.
  await writeKubeconfigFiles(dir, state);
  return { dir, kubeconfig, server };
}

/** Stops every component of DIR (SIGTERM, then SIGKILL) and keeps its data. */
export async function down(dirArg: string): Promise<void> {
  const dir = resolve(dirArg);
  for (const component of [...COMPONENTS].reverse()) await stop(dir, component);
}

/** Kills one component the hard way, as a crash would: for fault tests. */
export async function kill(dirArg: string, component: Component): Promise<void> {
  const pid = readPid(resolve(dirArg), component);
  if (pid !== undefined && alive(pid)) {
    process.kill(pid, 'SIGKILL');
    await waitExit(pid, 10_000);
  }
}

async function loadOrCreateState(dir: string, apiserverArgs: string[]): Promise<State> {
  const file = join(dir, 'state.json');
  if (existsSync(file)) return JSON.parse(await readFile(file, 'utf8')) as State;
  const { publicKey, privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  await writeFile(join(dir, 'certs', 'sa.pub'), publicKey);
  await writeFile(join(dir, 'certs', 'sa.key'), privateKey, { mode: 0o600 });
  const state: State = {
    etcdClientPort: await freePort(),
    etcdPeerPort: await freePort(),
    apiserverPort: await freePort(),
    controllerManagerPort: await freePort(),
    adminToken: randomBytes(24).toString('hex'),
    apiserverArgs,
  };
  await writeFile(join(dir, 'state.json'), JSON.stringify(state, null, 2), { mode: 0o600 });
  return state;
}

/** Writes the token file kube-apiserver reads and the cluster-admin kubeconfig. */
async function writeKubeconfigFiles(dir: string, state: State): Promise<string> {
  // Group system:masters makes the static-token user cluster-admin.
  await writeFile(join(dir, 'certs', 'tokens.csv'), `${state.adminToken},admin,admin,"system:masters"\n`, { mode: 0o600 });
  const caFile = join(dir, 'certs', 'apiserver.crt');
  const cluster = existsSync(caFile)
    ? `    certificate-authority-data: ${readFileSync(caFile).toString('base64')}\n`
    : '    insecure-skip-tls-verify: true\n';
  const kubeconfig = join(dir, 'kubeconfig');
  await writeFile(
    kubeconfig,
    `apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: https://${LOOPBACK}:${state.apiserverPort}
${cluster}users:
- name: admin
  user:
    token: ${state.adminToken}
contexts:
- name: local
  context: {cluster: local, user: admin, namespace: default}
current-context: local
`,
    { mode: 0o600 },
  );
  return kubeconfig;
}

function commandLine(component: Component, binaries: Binaries, dir: string, state: State): string[] {
  const certs = join(dir, 'certs');
  switch (component) {
    case 'etcd':
      return [
        binaries.etcd,
        `--data-dir=${join(dir, 'etcd-data')}`,
        `--listen-client-urls=http://${LOOPBACK}:${state.etcdClientPort}`,
        `--advertise-client-urls=http://${LOOPBACK}:${state.etcdClientPort}`,
        `--listen-peer-urls=http://${LOOPBACK}:${state.etcdPeerPort}`,
        `--initial-advertise-peer-urls=http://${LOOPBACK}:${state.etcdPeerPort}`,
        `--initial-cluster=default=http://${LOOPBACK}:${state.etcdPeerPort}`,
        '--unsafe-no-fsync',
        '--log-level=warn',
      ];
    case 'kube-apiserver':
      return [
        binaries.kubeApiserver,
        `--etcd-servers=http://${LOOPBACK}:${state.etcdClientPort}`,
        `--cert-dir=${certs}`,
        `--bind-address=${LOOPBACK}`,
        `--advertise-address=${LOOPBACK}`,
        `--secure-port=${state.apiserverPort}`,
        '--service-cluster-ip-range=10.0.0.0/24',
        '--allow-privileged=true',
        '--authorization-mode=RBAC',
        `--token-auth-file=${join(certs, 'tokens.csv')}`,
        `--service-account-issuer=https://${LOOPBACK}:${state.apiserverPort}/`,
        `--service-account-key-file=${join(certs, 'sa.pub')}`,
        `--service-account-signing-key-file=${join(certs, 'sa.key')}`,
        ...state.apiserverArgs,
      ];
    case 'kube-controller-manager':
      return [
        binaries.kubeControllerManager,
        `--kubeconfig=${join(dir, 'kubeconfig')}`,
        `--authentication-kubeconfig=${join(dir, 'kubeconfig')}`,
        `--authorization-kubeconfig=${join(dir, 'kubeconfig')}`,
        `--bind-address=${LOOPBACK}`,
        `--secure-port=${state.controllerManagerPort}`,
        '--leader-elect=false',
        '--controllers=garbage-collector-controller,namespace-controller,serviceaccount-controller,serviceaccount-token-controller',
        `--service-account-private-key-file=${join(certs, 'sa.key')}`,
        `--root-ca-file=${join(certs, 'apiserver.crt')}`,
        '--concurrent-gc-syncs=20',
      ];
  }
}

function start(dir: string, component: Component, [command, ...args]: string[]): void {
  const out = openSync(join(dir, `${component}.log`), 'a');
  // Detached in its own process group, so the control plane outlives the
  // `up` command and Ctrl-C in a terminal does not reach it.
  const child = spawn(command!, args, { detached: true, stdio: ['ignore', out, out] });
  child.unref();
  if (child.pid === undefined) throw new Error(`could not start ${component}`);
  writePid(dir, component, child.pid);
}

async function waitReady(component: Component, dir: string, state: State): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  const probe: () => Promise<boolean> = {
    etcd: () => httpOk(`http://${LOOPBACK}:${state.etcdClientPort}/health`),
    'kube-apiserver': async () =>
      (await httpsOk(state.apiserverPort, '/readyz', state.adminToken)) &&
      httpsOk(state.apiserverPort, '/api/v1/namespaces/default', state.adminToken),
    'kube-controller-manager': () => httpsOk(state.controllerManagerPort, '/healthz', state.adminToken),
  }[component];
  while (Date.now() < deadline) {
    const pid = readPid(dir, component);
    if (pid === undefined || !alive(pid)) {
      throw new Error(`${component} exited while starting; see ${join(dir, `${component}.log`)}`);
    }
    if (await probe().catch(() => false)) return;
    await sleep(100);
  }
  throw new Error(`${component} not ready after ${READY_TIMEOUT_MS / 1000} s; see ${join(dir, `${component}.log`)}`);
}

async function httpOk(url: string): Promise<boolean> {
  const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
  return response.ok;
}

// The serving certificate is self-signed by kube-apiserver, so node's fetch
// (which cannot be told to trust it per call) is not used here.
const insecureAgent = new Agent({ rejectUnauthorized: false });

function httpsOk(port: number, path: string, token: string): Promise<boolean> {
  return new Promise((resolveOk) => {
    const req = request(
      { host: LOOPBACK, port, path, agent: insecureAgent, timeout: 2000, headers: { authorization: `Bearer ${token}` } },
      (response) => {
        response.resume();
        resolveOk(response.statusCode === 200);
      },
    );
    req.on('error', () => resolveOk(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

async function stop(dir: string, component: Component): Promise<void> {
  const pid = readPid(dir, component);
  if (pid !== undefined && alive(pid)) {
    process.kill(pid, 'SIGTERM');
    if (!(await waitExit(pid, 15_000))) {
      process.kill(pid, 'SIGKILL');
      await waitExit(pid, 5_000);
    }
  }
  await rm(pidFile(dir, component), { force: true });
}

async function waitExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!alive(pid)) return true;
    await sleep(50);
  }
  return !alive(pid);
}

function pidFile(dir: string, component: Component): string {
  return join(dir, `${component}.pid`);
}

function writePid(dir: string, component: Component, pid: number): void {
  // Synchronous on purpose: the pid must be on disk before anything awaits.
  writeFileSync(pidFile(dir, component), `${pid}\n`);
}

/** The pid DIR's pid file records for a component, if any (the process may have exited since). */
export function readPid(dir: string, component: Component): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(pidFile(dir, component), 'utf8'), 10);
    return Number.isInteger(pid) ? pid : undefined;
  } catch {
    return undefined; // no pid file: never started, or stopped by `down`
  }
}

/** True when DIR's pid file names a live process that is this component. */
function running(dir: string, component: Component): boolean {
  const pid = readPid(dir, component);
  if (pid === undefined || !alive(pid)) return false;
  // A recycled pid may belong to another program; the command line tells.
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0]?.endsWith(`/${component}`) ?? false;
  } catch {
    return false;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A killed child of ours stays a zombie until reaped; it is not running.
  try {
    return !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** A TCP port free on loopback right now, for a server started next. */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, LOOPBACK, () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port'))));
    });
  });
}
