/**
 * The scale benchmark (`npm run bench -- [--users N] [--departments D] [--latency-ms L] [--node-options O]
 * [--memory-limit Q] [--entry dist|src] [--cpu-profile FILE | --allocation-profile FILE]`):
 * on control planes of its own (in temp dirs) and the WeCom simulator,
 * 1. floor: our own client creates the CasdoorGroups and the N CasdoorUsers the sync will, with the operator's write concurrency;
 * 2. initial sync, on a fresh control plane: from creating the WeComSyncer to Ready with N users; then the floor
 *    again on a third one, so that the ratio is taken against the floor on both sides of the sync (A-B-A): a
 *    machine whose speed drifts steadily moves both floors' mean as much as the sync;
 * 3. resync with nothing changed: time and writes (read from kube-apiserver's /metrics); then the operator's
 *    V8 heap after a full GC, read through its inspector (heapAfterGcMB; its growth between two sizes is docs/performance.md's bytes per member);
 * 4. one member changed: writes; then spec.callback turned on and a member deleted, which WeCom's event tells
 *    the operator's receiver (bench/events.ts): seconds from the event to the CasdoorUser forbidden (eventToUserSeconds);
 * 5. WeCom calls per endpoint and tokens requested;
 * 6. fetch only: concurrent against serial;
 * 7. peak RSS (VmHWM) of the operator process, with both controllers at work;
 * 8. Casdoor: a floor, the CasdoorServer's push, a comparison with nothing changed, one change (bench/casdoor.ts);
 * 9. restart: the operator stopped (SIGTERM) and started again the same way, with every object stored:
 *    seconds to ready (restartReadySeconds), CasdoorUser writes until 5 s of quiet (restartWrites, must be 0),
 *    its peak RSS (restartPeakRssMB) and heap after a full GC (restartHeapAfterGcMB). The stand-in Casdoor
 *    of 8 is gone by then, so its CasdoorServer only fails to connect.
 * They run in the order 1-5, 8, 7, 9, 6: all that needs the operator first.
 * The operator runs as the image runs it: `node dist/main.js` (bundled first by `npm run build`, as the
 * image's build stage does; `--entry src` runs `node src/main.ts` instead) as a child process, with the
 * NODE_OPTIONS and the memory limit of deploy/base's Deployment (a memory cgroup, when this machine lets us make one), plus
 * the inspector on a loopback port. Should it exit (a V8 heap abort, an OOM kill), the wait at hand fails at
 * once with how it exited and its last log lines.
 * The last line printed is one JSON object, {@link SyncBenchmarkResult}.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request, type RequestOptions } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { parse } from 'yaml';
import { ApiException, CoreV1Api, CustomObjectsApi, type KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { CASDOOR_GROUP_KIND } from '../src/api/casdoor-group.ts';
import { CASDOOR_USER_KIND, CASDOOR_USER_PLURAL } from '../src/api/casdoor-user.ts';
import { ANNOTATION_SYNC_REQUESTED_AT, GROUP, VERSION } from '../src/api/group.ts';
import { WECOM_SYNCER_PLURAL, type WeComSyncer } from '../src/api/wecom-syncer.ts';
import { applyPlan, DEFAULT_WRITE_CONCURRENCY } from '../src/syncer/apply.ts';
import { type DesiredObject, desiredState, type ManagedKind } from '../src/syncer/desired.ts';
import { SharedConnectionsKubeConfig } from '../src/runtime/kube-config.ts';
import { KubeObjectWriter } from '../src/syncer/object-writer.ts';
import { type Plan, planSync } from '../src/syncer/plan.ts';
import { WeComClient } from '../src/wecom/client.ts';
import { DEFAULT_FETCH_CONCURRENCY, fetchOrganization, type Organization } from '../src/wecom/fetch.ts';
import { COMPONENTS, down, freePort, readPid, up } from '../hack/control-plane/cluster.ts';
import { createMemoryCgroup, type MemoryCgroup, quantityBytes } from '../test/support/memory-cgroup.ts';
import { startOperator, type OperatorProcess } from '../test/support/operator.ts';
import { startSimulator, type Simulator } from '../test/support/simulator/server.ts';
import { waitFor } from '../test/support/wait.ts';
import { type CasdoorBenchmarkResult, measureCasdoor } from './casdoor.ts';
import { measureEvent } from './events.ts';
import { compareFetch } from './fetch-compare.ts';
import type { ProfileKind } from './heap.ts';
import { operatorHeapAfterGc, operatorProfile, waitControllersStarted, whileRunning, withInspector } from './operator.ts';

const ROOT = join(import.meta.dirname, '..');

/** What to measure. */
export interface SyncBenchmarkOptions {
  users: number;
  /** Default users / 20 (at least 1). */
  departments?: number;
  /** WeCom latency per call. Default 20 ms. */
  latencyMs?: number;
  /** NODE_OPTIONS of the operator process. Default: the Deployment's ({@link deployedRuntime}); '' for none. */
  nodeOptions?: string;
  /** The operator's memory limit, a Kubernetes quantity. Default: the Deployment's; '' for none. */
  memoryLimit?: string;
  /**
   * What the operator runs: `dist`, the sources compiled as the image's build stage compiles them (the
   * default), or `src`, the TypeScript sources through Node's type stripping, as `make test` runs them.
   */
  entry?: 'dist' | 'src';
  /**
   * Writes a profile of the operator over the initial sync to `file`: its CPU profile (`.cpuprofile`) or
   * its allocations (`.heapprofile`). Either profiler slows the sync.
   */
  profile?: { kind: ProfileKind; file: string };
  /** Told of each step as it goes. */
  log?: (line: string) => void;
}

/**
 * What deploy/base's Deployment gives the operator container: NODE_OPTIONS, the other variables it sets to a
 * value (those read from the pod, such as POD_NAMESPACE, are left out), and the memory limit ('' when unset).
 */
function deployedRuntime(): { nodeOptions: string; env: Record<string, string>; memoryLimit: string } {
  const deployment = parse(readFileSync(join(ROOT, 'deploy', 'base', 'deployment.yaml'), 'utf8')) as {
    spec: { template: { spec: { containers: Array<{ env?: Array<{ name: string; value?: string }>; resources?: { limits?: { memory?: string } } }> } } };
  };
  const [container] = deployment.spec.template.spec.containers;
  const values: Record<string, string> = {};
  for (const variable of container?.env ?? []) if (variable.value !== undefined) values[variable.name] = variable.value;
  const { NODE_OPTIONS: nodeOptions = '', ...env } = values;
  return { nodeOptions, env, memoryLimit: container?.resources?.limits?.memory ?? '' };
}

/** The benchmark's JSON line: exactly these fields. */
export interface SyncBenchmarkResult extends CasdoorBenchmarkResult, RestartResult {
  users: number;
  departments: number;
  /**
   * The floor: the groups and users the initial sync creates, written by our bare client; the mean of the
   * floor before the initial sync and the one after it (step 1 and 2).
   */
  floorSeconds: number;
  /** The floor before the initial sync and the floor after it: their ratio is the machine's drift over the sync. */
  floorBeforeSeconds: number;
  floorAfterSeconds: number;
  /** The floors' users alone (their mean): what the floor was until the seventh session, for comparison with its runs. */
  floorUsersSeconds: number;
  initialSyncSeconds: number;
  /** initialSyncSeconds / floorSeconds. */
  initialVsFloor: number;
  /** The initial sync's WeCom fetch (start to plan); the groups, then members new to the cache, are written meanwhile. */
  initialFetchSeconds: number;
  /** Of the initial sync's members, those created while the fetch ran. */
  initialCreatedWhileFetching: number;
  /** The initial sync's writes after the plan (plan to end) against the floor: those not made during the fetch. */
  initialWritesVsFloor: number;
  resyncSeconds: number;
  resyncWrites: number;
  /** The operator's V8 heap after a full GC, right after the resync (MB of 10^6 bytes). */
  heapAfterGcMB: number;
  oneChangeWrites: number;
  /** From WeCom's event POST (a member deleted) to the CasdoorUser forbidden. */
  eventToUserSeconds: number;
  tokenRequests: number;
  wecomCalls: Record<string, number>;
  serialFetchSeconds: number;
  parallelFetchSeconds: number;
  fetchSpeedup: number;
  peakRssMB: number;
}

/** Write verbs, as kube-apiserver's apiserver_request_total labels them. */
const WRITE_VERBS = new Set(['POST', 'PATCH', 'PUT', 'DELETE']);
const SYNCER = 'bench';
/** How often the benchmark polls while it times something. */
const POLL_MS = 100;
/** How long a restarted operator must go without a CasdoorUser write before its restart counts as done. */
const RESTART_QUIET_MS = 5000;
/** Between two readings of kube-apiserver's write count while waiting for quiet. */
const SETTLE_POLL_MS = 500;

/**
 * Bundles src/ into dist/main.js as the image's build stage does (`npm run build`: hack/build.ts) and returns
 * its path. The image holds that one file and package.json; the bundle does not load Node's type stripper,
 * whose WebAssembly memory stays for the life of the process, nor every module of client-node.
 */
async function compileAsImage(): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'hack', 'build.ts')], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`npm run build failed (${code}): ${output.slice(-2000)}`))));
  });
  return join(ROOT, 'dist', 'main.js');
}

/**
 * Runs the floor on a control plane of its own, the syncs on a fresh one and the floor again on a third
 * (temp dirs, each stopped and removed).
 */
export async function runSyncBenchmark(options: SyncBenchmarkOptions): Promise<SyncBenchmarkResult> {
  const users = options.users;
  const departments = options.departments ?? Math.max(1, Math.round(users / 20));
  const latencyMs = options.latencyMs ?? 20;
  const log = options.log ?? (() => {});
  const deployed = deployedRuntime();
  const nodeOptions = options.nodeOptions ?? deployed.nodeOptions;
  const memoryLimit = options.memoryLimit ?? deployed.memoryLimit;
  const dir = await mkdtemp(join(tmpdir(), 'wecom-syncer-bench-'));
  /** Every control plane's dir, to stop and remove should the run end early. */
  const planeDirs = [dir];
  let sim: Simulator | undefined;
  let operator: OperatorProcess | undefined;
  let cgroup: MemoryCgroup | undefined;
  let cleaned: Promise<void> | undefined;
  // Once, whether the run ends or a signal stops it.
  const cleanUp = (): Promise<void> => (cleaned ??= (async () => {
    await operator?.kill();
    await cgroup?.remove().catch(() => {});
    await sim?.close();
    for (const planeDir of planeDirs) await removeControlPlane(planeDir);
  })());
  const stopOnSignal = cleanUpOnSignal(cleanUp);
  try {
    sim = await startSimulator({
      generate: { members: users, departments, depth: 4, multiDepartmentShare: 0.15, seed: 42 },
      faults: { latencyMs },
    });
    const expectedUsers = sim.org.members.length;

    // 1. Floor: the operator's own writer and write concurrency, creating every user in a namespace no operator
    // watches, on a control plane of its own. The initial sync starts from the same empty store as the floor
    // did. On the floor's control plane it would pay for the floor's N objects: a larger etcd and watch cache
    // (at 50,000 members kube-apiserver used 31% more CPU per create in the sync than in the floor, etcd 29%),
    // or, were they deleted first, minutes of deletion and garbage collection.
    // The organization both floors write is fetched once (at no latency), before step 5's counters start.
    sim.faults.latencyMs = 0;
    const organization = await fetchOrganization(new WeComClient({ apiURL: sim.url, corpId: sim.corpId, secret: sim.corpSecret }), { concurrency: 16 });
    sim.faults.latencyMs = latencyMs;
    const floor = await floorOnItsOwnPlane(sim, organization, planeDirs, undefined, log);

    // 2. Initial sync, by the operator as a child process watching one namespace.
    const kube = await startControlPlane(dir, log);
    const ns = 'bench';
    await kube.core.createNamespace({ body: { metadata: { name: ns } } });
    await kube.createSecret(ns, sim.corpSecret, sim.url);
    await kube.waitForGarbageCollector(ns, floor.plan.create[0]!, log);
    const cpu = new CpuMeter(dir);
    log(`control plane ${await cpu.waitIdle()}`);
    sim.resetCounters();
    if (memoryLimit !== '') cgroup = await operatorCgroup(memoryLimit, log);
    const env = Object.entries(deployed.env).map(([name, value]) => `${name}=${value}`).join(' ');
    log(`operator: NODE_OPTIONS=${nodeOptions === '' ? '(none)' : nodeOptions}, ${env === '' ? 'no other variable' : env}, memory limit ${cgroup ? memoryLimit : 'none'}`);
    // With the inspector on, for its heap after a full GC (3 and 9).
    const main = options.entry === 'src' ? join(ROOT, 'src', 'main.ts') : await compileAsImage();
    log(`operator: node ${main.slice(ROOT.length + 1)}`);
    const runtime = { main, nodeOptions: withInspector(nodeOptions), env: deployed.env, ...(cgroup && { cgroup }) };
    const webhookPort = await freePort();
    const launch = (): OperatorProcess => startOperator(kube.kubeconfig, ns, ['--log-level=info', `--webhook-bind-address=127.0.0.1:${webhookPort}`], runtime);
    operator = launch();
    await waitControllersStarted(operator);
    const profile = options.profile;
    const profiler = profile && await operatorProfile(operator, profile.kind);
    let initial: InitialSync;
    try {
      initial = await measureInitialSync(kube, ns, sim, operator, cpu, log);
    } catch (error) {
      // The inspector session is closed either way: an operator with one open would not exit on SIGTERM.
      await profiler?.stop().catch(() => undefined);
      throw error;
    }
    if (profiler && profile) {
      await writeFile(profile.file, JSON.stringify(await profiler.stop()));
      log(`initial sync: the operator's ${profile.kind} profile is in ${profile.file}`);
    }
    const initialSyncSeconds = initial.seconds;

    // 2b. The floor again, right after the sync, with the sync's control plane and operator idle beside it.
    const floorAfter = await floorOnItsOwnPlane(sim, organization, planeDirs, { controlPlaneDir: dir, operatorPid: operator.pid }, log);
    const floorSeconds = round((floor.seconds + floorAfter.seconds) / 2, 2);
    log(`floor: ${floor.seconds} s before the initial sync, ${floorAfter.seconds} s after it (the machine ${floorAfter.seconds > floor.seconds ? 'slower' : 'faster'} by ${Math.abs(round((floorAfter.seconds / floor.seconds - 1) * 100, 1))}%); initial / their mean ${round(initialSyncSeconds / floorSeconds, 2)}`);

    // 3. Resync with nothing changed, then the heap that N members leave the operator holding.
    const resync = await whileRunning(operator, requestSync(kube, ns));
    const heapAfterGc = await operatorHeapAfterGc(operator);
    log(`resync: ${resync.seconds} s, ${resync.writes} writes; operator heap after a full GC ${megabytes(heapAfterGc)} MB`);

    // 4. One member changed.
    const member = sim.org.members[Math.floor(sim.org.members.length / 2)]!;
    sim.patchOrg({ upsertMembers: [{ ...member, position: `${String(member.position ?? '')} (changed by the benchmark)` }] });
    const oneChange = await whileRunning(operator, requestSync(kube, ns));
    log(`one change: ${oneChange.seconds} s, ${oneChange.writes} writes`);

    // 5. WeCom calls of the three syncs.
    const wecomCalls = { ...sim.counters.calls };
    // 4b, after 5 so that the calls counted are the three syncs': a member deleted, told by WeCom's event.
    const eventToUserSeconds = await whileRunning(operator, measureEvent({ kc: kube.kc, namespace: ns, syncer: SYNCER, sim, webhookPort, log }));
    // 8. Casdoor, with the WeComSyncer's users stored (its fourth sync carries one more change).
    log(`operator peak RSS before the Casdoor steps ${peakRss(operator.pid)} MB`);
    const specs = floor.plan.create.map((o) => o.spec as unknown as Record<string, unknown>);
    const casdoorResult = await whileRunning(operator, measureCasdoor({ kc: kube.kc, core: kube.core, namespace: ns, syncer: SYNCER, sim, specs, log }));
    const tokenRequests = wecomCalls.gettoken ?? 0;
    log(`WeCom calls: ${JSON.stringify(wecomCalls)}, peak ${sim.counters.maxInFlight} in flight`);

    // 7 is read now, while the first operator still runs; 9 restarts it; 6 runs without it.
    const peakRssMB = peakRss(operator.pid);
    const throttled = (await kube.casdoorUserWrites()).throttled;
    log(`operator peak RSS ${peakRssMB} MB; CasdoorUser requests answered 429 in the whole run: ${throttled}`);

    // 9. Restart.
    const restarted = await restartOperator(kube, operator, launch, log);
    operator = restarted.operator;
    await operator.kill();
    operator = undefined;

    // 6. Fetch only.
    const fetch = await compareFetch(sim, DEFAULT_FETCH_CONCURRENCY);
    log(`fetch: serial ${fetch.serial.ms} ms, ${fetch.concurrent.concurrency} at once ${fetch.concurrent.ms} ms (peak ${fetch.concurrent.maxInFlight} in flight)`);

    return {
      users: expectedUsers,
      departments: sim.org.departments.length,
      floorSeconds,
      floorBeforeSeconds: floor.seconds,
      floorAfterSeconds: floorAfter.seconds,
      floorUsersSeconds: round((floor.usersSeconds + floorAfter.usersSeconds) / 2, 2),
      initialSyncSeconds,
      initialVsFloor: round(initialSyncSeconds / floorSeconds, 2),
      initialFetchSeconds: initial.fetchSeconds,
      initialCreatedWhileFetching: initial.createdWhileFetching,
      initialWritesVsFloor: round(initial.writeSeconds / floorSeconds, 2),
      resyncSeconds: resync.seconds,
      resyncWrites: resync.writes,
      heapAfterGcMB: megabytes(heapAfterGc),
      oneChangeWrites: oneChange.writes,
      eventToUserSeconds,
      tokenRequests,
      wecomCalls,
      serialFetchSeconds: round(fetch.serial.ms / 1000, 2),
      parallelFetchSeconds: round(fetch.concurrent.ms / 1000, 2),
      fetchSpeedup: fetch.speedup,
      peakRssMB,
      ...restarted.result,
      ...casdoorResult,
    };
  } finally {
    stopOnSignal.dispose();
    await cleanUp();
  }
}

/**
 * Runs `cleanUp` and exits when the process is told to stop (Ctrl-C, SIGTERM) while `cleanUp` is armed: a
 * `finally` never runs then, and the control planes the benchmark started would go on running.
 */
function cleanUpOnSignal(cleanUp: () => Promise<void>): { dispose(): void } {
  const signals = { SIGINT: 130, SIGTERM: 143 } as const;
  const handlers = Object.entries(signals).map(([signal, code]) => {
    const handler = (): void => {
      process.stderr.write(`bench: ${signal}, stopping the control planes\n`);
      void cleanUp().finally(() => process.exit(code));
    };
    process.once(signal, handler);
    return [signal, handler] as const;
  });
  return { dispose: () => handlers.forEach(([signal, handler]) => process.off(signal, handler)) };
}

/** A control plane's processes to wait for beside the floor's own: the sync's, idle, between the floors. */
interface Neighbours {
  controlPlaneDir: string;
  operatorPid: number | undefined;
}

/**
 * Steps 1 and 2b: the floor on a control plane of its own, started in a new temp dir (pushed to `planeDirs`
 * so that an early end removes it), then stopped and removed: its objects are gone without a deletion to pay
 * for. It waits for `neighbours` to be idle as well as for its own control plane.
 */
async function floorOnItsOwnPlane(sim: Simulator, organization: Organization, planeDirs: string[], neighbours: Neighbours | undefined, log: (line: string) => void): Promise<Floor> {
  const floorDir = await mkdtemp(join(tmpdir(), 'wecom-syncer-bench-floor-'));
  planeDirs.push(floorDir);
  const floorKube = await startControlPlane(floorDir, log);
  const floor = await measureFloor(floorKube, floorDir, sim, organization, neighbours, log);
  await removeControlPlane(floorDir);
  planeDirs.splice(planeDirs.indexOf(floorDir), 1);
  return floor;
}

async function removeControlPlane(planeDir: string): Promise<void> {
  await down(planeDir);
  await rm(planeDir, { recursive: true, force: true });
}

/** A floor's time, the users' part of it, and the users' plan, whose objects later steps reuse. */
interface Floor {
  seconds: number;
  usersSeconds: number;
  plan: Plan;
}

/**
 * Our own client creates every object the initial sync must create, the groups and then the users as the
 * sync does, in a namespace no operator watches, with the operator's writer and write concurrency.
 */
async function measureFloor(floorKube: Kube, floorDir: string, sim: Simulator, organization: Organization, neighbours: Neighbours | undefined, log: (line: string) => void): Promise<Floor> {
  const expectedUsers = sim.org.members.length;
  const floorNs = 'bench-floor';
  await floorKube.core.createNamespace({ body: { metadata: { name: floorNs } } });
  await floorKube.createSecret(floorNs, sim.corpSecret, sim.url);
  const floorOwner = await floorKube.createSyncer(floorNs, sim, { suspend: true });
  // Owned by this control plane's WeComSyncer: objects owned by another's would be collected as orphans.
  const desired = desiredState(floorOwner, organization);
  const plan = planSync({ desired: desired.users.values(), stored: new Map(), policy: 'Keep', maxRemovals: 0 });
  const groupPlan = planSync({ desired: desired.groups.values(), stored: new Map(), policy: 'Keep', maxRemovals: 0 });
  if (groupPlan.create.length !== organization.departments.length) {
    throw new Error(`floor: ${groupPlan.create.length} groups planned for ${organization.departments.length} departments; the sync writes one each`);
  }
  // The initial sync's writes are watched by the garbage collector too, so the floor's must be: the
  // collector finds a new CRD by periodic discovery, and until then it costs the API server nothing.
  await floorKube.waitForGarbageCollector(floorNs, plan.create[0]!, log);
  const floorCpu = new CpuMeter(floorDir);
  if (neighbours) {
    for (const component of COMPONENTS) floorCpu.add(`sync's ${component}`, readPid(neighbours.controlPlaneDir, component));
    floorCpu.add('operator', neighbours.operatorPid);
  }
  log(`control plane ${await floorCpu.waitIdle()}`);
  const writesBefore = await floorKube.casdoorUserWrites();
  const cpuBefore = floorCpu.read();
  const writer = new KubeObjectWriter(floorKube.kc);
  const create = (objects: readonly DesiredObject[], kind: ManagedKind) =>
    // A copy: applying takes the plan's lists, and later steps reuse its objects.
    applyPlan({ create: [...objects], update: [], remove: [] }, {
      namespace: floorNs, kind, writer, removal: 'Keep', concurrency: DEFAULT_WRITE_CONCURRENCY, now: new Date().toISOString(),
    });
  const started = performance.now();
  const groups = await create(groupPlan.create, CASDOOR_GROUP_KIND);
  const usersStarted = performance.now();
  const users = await create(plan.create, CASDOOR_USER_KIND);
  const floorSeconds = seconds(started);
  const usersSeconds = seconds(usersStarted);
  if (groups.created !== groupPlan.create.length) throw new Error(`floor: created ${groups.created} of ${groupPlan.create.length} groups (${groups.failed} failed)`);
  if (users.created !== expectedUsers) throw new Error(`floor: created ${users.created} of ${expectedUsers} (${users.failed} failed)`);
  log(`floor: ${groups.created} CasdoorGroups and ${expectedUsers} CasdoorUsers in ${floorSeconds} s (the users ${usersSeconds} s), ${(await floorKube.casdoorUserWrites()).writes - writesBefore.writes} CasdoorUser writes`);
  log(`floor: CPU seconds ${floorCpu.since(cpuBefore)}`);
  return { seconds: floorSeconds, usersSeconds, plan };
}

/** A memory cgroup of `limit` for the operator, as its container has; undefined (and said) when this machine cannot make one. */
function operatorCgroup(limit: string, log: (line: string) => void): Promise<MemoryCgroup | undefined> {
  return createMemoryCgroup(`wecom-syncer-bench-${process.pid}`, quantityBytes(limit)).catch((error: unknown) => {
    log(`the operator runs without a memory limit: no cgroup (${error instanceof Error ? error.message : String(error)})`);
    return undefined;
  });
}

/** The initial sync's time, and its two phases as the operator's log stamps them. */
interface InitialSync {
  seconds: number;
  /** From the sync's start to its plan: the WeCom fetch, while the groups and then new members are written. */
  fetchSeconds: number;
  /** From the plan to the sync's end: the writes not made during the fetch. */
  writeSeconds: number;
  /** The members created while the fetch ran. */
  createdWhileFetching: number;
}

/**
 * The phases of the first sync in an operator's JSON log: its `sync starting`, `planned` and `sync finished`
 * lines (pino's `time` is milliseconds since the epoch).
 */
export function syncPhases(logText: string): Omit<InitialSync, 'seconds'> {
  const times = new Map<string, number>();
  let createdWhileFetching: number | undefined;
  for (const line of logText.split('\n')) {
    if (!line.startsWith('{')) continue;
    const entry = JSON.parse(line) as { msg?: string; time?: number; createdWhileFetching?: number };
    if (entry.msg && entry.time !== undefined && !times.has(entry.msg)) {
      times.set(entry.msg, entry.time);
      if (entry.msg === 'planned') createdWhileFetching = entry.createdWhileFetching;
    }
  }
  const [start, planned, finished] = ['sync starting', 'planned', 'sync finished'].map((msg) => times.get(msg));
  if (start === undefined || planned === undefined || finished === undefined) throw new Error('the operator\'s log lacks the first sync\'s start, plan or end');
  return { fetchSeconds: round((planned - start) / 1000, 2), writeSeconds: round((finished - planned) / 1000, 2), createdWhileFetching: createdWhileFetching ?? 0 };
}

/** Step 2: from creating the WeComSyncer to Ready with every user, by the running `operator`; its time and phases. */
async function measureInitialSync(kube: Kube, ns: string, sim: Simulator, operator: OperatorProcess, cpu: CpuMeter, log: (line: string) => void): Promise<InitialSync> {
  const expectedUsers = sim.org.members.length;
  const before = await kube.casdoorUserWrites();
  cpu.add('operator', operator.pid);
  const cpuBefore = cpu.read();
  const started = performance.now();
  await kube.createSyncer(ns, sim, {});
  const initial = await whileRunning(operator, waitFor('Ready with every user', async () => {
    const syncer = await kube.syncer(ns);
    return isReady(syncer) && syncer.status?.users?.total === expectedUsers ? syncer : undefined;
  }, Math.max(120_000, expectedUsers * 40), POLL_MS));
  const initialSyncSeconds = seconds(started);
  const after = await kube.casdoorUserWrites();
  log(`initial sync: ${initialSyncSeconds} s, ${after.writes - before.writes} CasdoorUser writes, ${after.throttled - before.throttled} answered 429, lastSync ${JSON.stringify(initial.status?.lastSync)}`);
  log(`initial sync: CPU seconds ${cpu.since(cpuBefore)}; operator peak RSS so far ${peakRss(operator.pid)} MB`);
  const phases = syncPhases(operator.log());
  log(`initial sync: fetch ${phases.fetchSeconds} s (${phases.createdWhileFetching} members created meanwhile), writes after it ${phases.writeSeconds} s`);
  return { seconds: initialSyncSeconds, ...phases };
}

/** Step 9's fields of the JSON. */
interface RestartResult {
  restartReadySeconds: number;
  restartWrites: number;
  restartPeakRssMB: number;
  restartHeapAfterGcMB: number;
}

/**
 * Step 9: stops `running` (SIGTERM) and starts another with `launch`, as a rollout would, with every user
 * and group stored. Ready is the manager's "controllers started": every informer has listed. The syncer's
 * status says its last sync is done, so the first reconcile must find nothing to write: any CasdoorUser
 * write until 5 s of quiet counts. Returns the new operator, which the caller then owns.
 */
async function restartOperator(kube: Kube, running: OperatorProcess, launch: () => OperatorProcess, log: (line: string) => void): Promise<{ operator: OperatorProcess; result: RestartResult }> {
  const exitCode = await running.kill();
  const writesBefore = (await kube.casdoorUserWrites()).writes;
  const started = performance.now();
  const operator = launch();
  try {
    await waitControllersStarted(operator);
    const restartReadySeconds = seconds(started);
    await whileRunning(operator, kube.waitWritesSettled(RESTART_QUIET_MS));
    const restartWrites = (await kube.casdoorUserWrites()).writes - writesBefore;
    const restartPeakRssMB = peakRss(operator.pid);
    const restartHeapAfterGcMB = megabytes(await operatorHeapAfterGc(operator));
    log(`restart: the first operator exited ${exitCode} on SIGTERM; the new one ready in ${restartReadySeconds} s, ${restartWrites} CasdoorUser writes, peak RSS ${restartPeakRssMB} MB, heap after a full GC ${restartHeapAfterGcMB} MB`);
    return { operator, result: { restartReadySeconds, restartWrites, restartPeakRssMB, restartHeapAfterGcMB } };
  } catch (error) {
    await operator.kill();
    throw error;
  }
}

/** Starts a control plane in `dir` with the CRDs installed, driven by the operator's own client. */
async function startControlPlane(dir: string, log: (line: string) => void): Promise<Kube> {
  log(`control plane in ${dir}`);
  const plane = await up(dir, { log });
  const kc = new SharedConnectionsKubeConfig();
  kc.loadFromFile(plane.kubeconfig);
  const kube = new Kube(kc, plane.kubeconfig);
  await kube.kubectl(['apply', '--server-side', '-f', join(ROOT, 'crds')]);
  await kube.kubectl(['wait', '--for=condition=Established', '-f', join(ROOT, 'crds')]);
  return kube;
}

/** Requests a sync and waits until status says it was handled: its time and the CasdoorUser writes it made. */
async function requestSync(kube: Kube, ns: string): Promise<{ seconds: number; writes: number }> {
  await kube.waitWritesSettled();
  const before = await kube.casdoorUserWrites();
  const value = `bench-${Date.now()}`;
  const started = performance.now();
  await kube.custom.patchNamespacedCustomObject(
    { group: GROUP, version: VERSION, namespace: ns, plural: WECOM_SYNCER_PLURAL, name: SYNCER, body: { metadata: { annotations: { [ANNOTATION_SYNC_REQUESTED_AT]: value } } } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
  await waitFor(`sync request ${value} handled`, async () => {
    const syncer = await kube.syncer(ns);
    return syncer.status?.lastHandledSyncRequest === value && isReady(syncer) ? syncer : undefined;
  }, 600_000, POLL_MS);
  const elapsed = seconds(started);
  await kube.waitWritesSettled();
  return { seconds: elapsed, writes: (await kube.casdoorUserWrites()).writes - before.writes };
}

function isReady(syncer: WeComSyncer): boolean {
  const conditions = syncer.status?.conditions ?? [];
  const ready = conditions.find((c) => c.type === 'Ready');
  return ready?.status === 'True' && ready.observedGeneration === syncer.metadata.generation && !conditions.some((c) => c.type === 'Reconciling');
}

/** The control plane as the benchmark drives it. */
class Kube {
  readonly core: CoreV1Api;
  readonly custom: CustomObjectsApi;
  /** The operator's own client configuration, for writers. */
  readonly kc: KubeConfig;
  readonly kubeconfig: string;

  constructor(kc: KubeConfig, kubeconfig: string) {
    this.kc = kc;
    this.kubeconfig = kubeconfig;
    this.core = kc.makeApiClient(CoreV1Api);
    this.custom = kc.makeApiClient(CustomObjectsApi);
  }

  kubectl(args: string[]): Promise<string> {
    return new Promise((resolve, reject) => {
      const child = spawn('kubectl', [`--kubeconfig=${this.kubeconfig}`, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`kubectl ${args.join(' ')}: ${out.trim()}`))));
    });
  }

  /** The WeCom Secret, allowed to go to the simulator at `apiURL`. */
  async createSecret(namespace: string, corpSecret: string, apiURL: string): Promise<void> {
    const metadata = { name: 'wecom', annotations: { 'casdoor.org/allowed-urls': new URL(apiURL).origin } };
    await this.core.createNamespacedSecret({ namespace, body: { metadata, stringData: { corpSecret } } });
  }

  async createSyncer(namespace: string, sim: Simulator, spec: Record<string, unknown>): Promise<WeComSyncer> {
    const body = {
      apiVersion: `${GROUP}/${VERSION}`,
      kind: 'WeComSyncer',
      metadata: { name: SYNCER, namespace },
      spec: { organization: 'acme', corpId: sim.corpId, corpSecretRef: { name: 'wecom' }, apiURL: sim.url, ...spec },
    };
    return (await this.custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: WECOM_SYNCER_PLURAL, body })) as WeComSyncer;
  }

  async syncer(namespace: string): Promise<WeComSyncer> {
    return (await this.custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: WECOM_SYNCER_PLURAL, name: SYNCER })) as WeComSyncer;
  }

  /**
   * Returns once kube-controller-manager's garbage collector collects a
   * CasdoorUser whose owner never existed: proof that it watches them.
   */
  async waitForGarbageCollector(namespace: string, like: DesiredObject, log: (line: string) => void): Promise<void> {
    const started = performance.now();
    const name = 'garbage-collector-probe';
    // Field by field: a desired user's spec, labels and owner are getters, which a spread would drop.
    const orphan = { kind: like.kind, name, labels: like.labels, spec: like.spec, fingerprint: like.fingerprint, isForbidden: like.isForbidden, ownerReference: { ...like.ownerReference, name: 'never-existed', uid: randomUUID() } };
    await new KubeObjectWriter(this.kc).create(namespace, orphan);
    await waitFor('the garbage collector to collect an orphan', async () => {
      try {
        await this.custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: CASDOOR_USER_PLURAL, name });
        return undefined;
      } catch (error) {
        if (error instanceof ApiException && error.code === 404) return true;
        throw error;
      }
    }, 180_000, 500);
    log(`the garbage collector watches CasdoorUsers (${seconds(started)} s)`);
  }

  /** kube-apiserver's own count of CasdoorUser writes (POST, PATCH, PUT, DELETE) and of CasdoorUser requests it answered 429. */
  async casdoorUserWrites(): Promise<{ writes: number; throttled: number }> {
    const text = await this.#get('/metrics');
    let writes = 0;
    let throttled = 0;
    for (const line of text.split('\n')) {
      if (!line.startsWith('apiserver_request_total{')) continue;
      const labels = Object.fromEntries([...line.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
      if (labels.resource !== 'casdoorusers') continue;
      const value = Number(line.slice(line.lastIndexOf(' ') + 1));
      if (WRITE_VERBS.has(labels.verb ?? '')) writes += value;
      if (labels.code === '429') throttled += value;
    }
    return { writes, throttled };
  }

  /** Waits until no CasdoorUser write has happened for `quietMs` (garbage collection, namespace cleanup, stragglers). */
  async waitWritesSettled(quietMs = 2000): Promise<void> {
    let last = (await this.casdoorUserWrites()).writes;
    for (let quiet = 0; quiet < quietMs; ) {
      await sleep(SETTLE_POLL_MS);
      const now = (await this.casdoorUserWrites()).writes;
      quiet = now === last ? quiet + SETTLE_POLL_MS : 0;
      last = now;
    }
  }

  async #get(path: string): Promise<string> {
    const cluster = this.kc.getCurrentCluster();
    if (!cluster) throw new Error('the kubeconfig names no cluster');
    const url = new URL(path, cluster.server);
    const options: RequestOptions = { host: url.hostname, port: url.port, path: url.pathname, method: 'GET' };
    await this.kc.applyToHTTPSOptions(options);
    return new Promise((resolve, reject) => {
      const req = request(options, (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => (response.statusCode === 200 ? resolve(body) : reject(new Error(`GET ${path}: ${response.statusCode}`))));
      });
      req.on('error', reject);
      req.end();
    });
  }
}

/**
 * CPU seconds used by the control plane's processes, the benchmark's own
 * (writer of the floor, WeCom simulator) and the operator's: where the time of
 * a step went on a machine whose cores they all share.
 */
class CpuMeter {
  readonly #pids = new Map<string, number>();

  constructor(controlPlaneDir: string) {
    for (const component of COMPONENTS) this.add(component, readPid(controlPlaneDir, component));
    this.add('benchmark', process.pid);
  }

  add(name: string, pid: number | undefined): void {
    if (pid !== undefined) this.#pids.set(name, pid);
  }

  read(): Map<string, number> {
    const seconds = new Map<string, number>();
    for (const [name, pid] of this.#pids) {
      // A process that has exited (an operator killed for memory, say) is left out, so that the error that follows tells why.
      if (!existsSync(`/proc/${pid}/stat`)) continue;
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // After the command name in parentheses: state is field 3, utime 14, stime 15 (clock ticks of 1/100 s).
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      seconds.set(name, (Number(fields[11]) + Number(fields[12])) / 100);
    }
    return seconds;
  }

  /**
   * Waits (at most two minutes) until every process measured but the benchmark's own (the control plane's,
   * and any added) together uses under a tenth of a core over a second; tells how long it waited and what
   * each used in the last second.
   */
  async waitIdle(): Promise<string> {
    const started = performance.now();
    let last = '';
    let idle = false;
    while (!idle && performance.now() - started < 120_000) {
      const before = this.read();
      await sleep(1000);
      const used = [...this.read()].filter(([name]) => name !== 'benchmark').map(([name, total]) => [name, total - (before.get(name) ?? 0)] as const);
      last = used.map(([name, value]) => `${name} ${value.toFixed(2)}`).join(', ');
      idle = used.reduce((sum, [, value]) => sum + value, 0) < 0.1;
    }
    return `${idle ? 'idle' : 'still busy'} after ${seconds(started)} s; last second: ${last}`;
  }

  /** `name X s, …` of what each used since `before`, and their sum. */
  since(before: Map<string, number>): string {
    const used = [...this.read()].map(([name, total]) => [name, total - (before.get(name) ?? 0)] as const);
    const sum = used.reduce((all, [, value]) => all + value, 0);
    return `${used.map(([name, value]) => `${name} ${value.toFixed(1)}`).join(', ')} (sum ${sum.toFixed(1)})`;
  }
}

/** VmHWM of a process, in MB. */
function peakRss(pid: number | undefined): number {
  if (pid === undefined) throw new Error('the operator has no pid');
  const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmHWM in /proc/${pid}/status`);
  return round(Number(match[1]) / 1024, 1);
}

/** Bytes in MB of 10^6, to one decimal. */
function megabytes(bytes: number): number {
  return round(bytes / 1e6, 1);
}

function seconds(since: number): number {
  return round((performance.now() - since) / 1000, 2);
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

function positive(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0) throw new Error(`--${flag} must be a number of 0 or more, not "${text}"`);
  return value;
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      users: { type: 'string', default: '10000' },
      departments: { type: 'string' },
      'latency-ms': { type: 'string', default: '20' },
      'node-options': { type: 'string' },
      'memory-limit': { type: 'string' },
      entry: { type: 'string', default: 'dist' },
      'cpu-profile': { type: 'string' },
      'allocation-profile': { type: 'string' },
    },
  });
  if (values.entry !== 'dist' && values.entry !== 'src') throw new Error(`--entry must be dist or src, not "${values.entry}"`);
  const departments = positive('departments', values.departments);
  if (values['cpu-profile'] !== undefined && values['allocation-profile'] !== undefined) throw new Error('--cpu-profile and --allocation-profile: one profiler at a time');
  const profile = values['cpu-profile'] !== undefined ? { kind: 'cpu' as const, file: values['cpu-profile'] }
    : values['allocation-profile'] !== undefined ? { kind: 'allocations' as const, file: values['allocation-profile'] } : undefined;
  const result = await runSyncBenchmark({
    users: positive('users', values.users) ?? 10_000,
    ...(departments !== undefined && { departments }),
    latencyMs: positive('latency-ms', values['latency-ms']) ?? 20,
    ...(values['node-options'] !== undefined && { nodeOptions: values['node-options'] }),
    ...(values['memory-limit'] !== undefined && { memoryLimit: values['memory-limit'] }),
    entry: values.entry,
    ...(profile && { profile }),
    log: (line) => process.stdout.write(`${line}\n`),
  });
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
