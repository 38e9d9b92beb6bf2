// `wecom-syncer sync`: request a sync through the annotation contract, wait
// until status says it was handled, and report the outcome the way
// `flux reconcile` does. The cluster is reached through a SyncerClient and
// time through a Clock, so the whole flow runs in unit tests without either.
import { ApiException, CustomObjectsApi, type KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { CASDOOR_SERVER_PLURAL, type CasdoorServer } from '../api/casdoor-server.ts';
import { ConditionType, findCondition, Reason } from '../api/conditions.ts';
import { ANNOTATION_SYNC_REQUESTED_AT, GROUP, VERSION } from '../api/group.ts';
import { WECOM_SYNCER_PLURAL, type WeComSyncer } from '../api/wecom-syncer.ts';
import type { SyncKind } from './args.ts';

/** What the command reads of either kind. */
export type SyncTarget = WeComSyncer | CasdoorServer;

const PLURALS: Readonly<Record<SyncKind, string>> = { WeComSyncer: WECOM_SYNCER_PLURAL, CasdoorServer: CASDOOR_SERVER_PLURAL };

/** Exit statuses of the command. */
export const ExitCode = {
  /** Synced; for a suspended syncer, the connection test passed. */
  Ok: 0,
  /** The sync failed, the wait timed out, or the syncer or its CRD is missing. */
  Failed: 1,
  /** The command line cannot be run. */
  Usage: 2,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** The object asked for does not exist. */
export class SyncerNotFoundError extends Error {
  override name = 'SyncerNotFoundError';
}

/** The API server does not serve the kind asked for: the CRDs are not installed. */
export class CrdNotInstalledError extends Error {
  override name = 'CrdNotInstalledError';
}

/** The reads and writes the command makes. */
export interface SyncerClient {
  get(namespace: string, name: string): Promise<SyncTarget>;
  /** Sets the sync-request annotation to `value` and returns the stored object. */
  requestSync(namespace: string, name: string, value: string): Promise<SyncTarget>;
}

/** Where the command writes: the outcome to `out`, progress and errors to `err`. */
export interface Terminal {
  out(line: string): void;
  err(line: string): void;
}

/** Time, injected so tests need no real timers. */
export interface Clock {
  now(): Date;
  sleep(ms: number): Promise<void>;
}

/** The real clock. */
export const systemClock: Clock = {
  now: () => new Date(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** What to do. */
export interface SyncRequest {
  /** Which kind `name` is. Default WeComSyncer. */
  kind?: SyncKind;
  name: string;
  namespace: string;
  wait: boolean;
  timeoutMs: number;
  /** How often status is read while waiting. */
  pollMs?: number;
}

const DEFAULT_POLL_MS = 1000;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Checks the little the command relies on before treating a response body as the object asked for. */
function asTarget(body: unknown, kind: SyncKind): SyncTarget {
  if (!isRecord(body) || !isRecord(body['metadata']) || typeof body['metadata']['name'] !== 'string') {
    throw new Error(`the API server answered with something that is not a ${kind}`);
  }
  return { ...(body as object), kind } as SyncTarget;
}

/** A SyncerClient for objects of `kind` on the API server of `kc`. */
export function kubeSyncerClient(kc: KubeConfig, kind: SyncKind = 'WeComSyncer'): SyncerClient {
  const api = kc.makeApiClient(CustomObjectsApi);
  const plural = PLURALS[kind];
  const target = (namespace: string, name: string) => ({ group: GROUP, version: VERSION, namespace, plural, name });

  // A 404 means either "no such object" or "no such resource": the API
  // server's discovery document tells the two apart.
  const explainNotFound = async (namespace: string, name: string, error: ApiException<unknown>): Promise<Error> => {
    let served: boolean;
    try {
      const resources = await api.getAPIResources({ group: GROUP, version: VERSION });
      served = resources.resources.some((resource) => resource.name === plural);
    } catch (discoveryError) {
      if (!(discoveryError instanceof ApiException) || discoveryError.code !== 404) throw discoveryError;
      served = false;
    }
    return served
      ? new SyncerNotFoundError(`${kind.toLowerCase()} ${namespace}/${name} not found`, { cause: error })
      : new CrdNotInstalledError(
          `the ${kind} CRD is not installed: the API server does not serve ${plural}.${GROUP}/${VERSION} (install it with kubectl apply -f crds/)`,
          { cause: error },
        );
  };
  const call = async (namespace: string, name: string, request: () => Promise<unknown>): Promise<SyncTarget> => {
    try {
      return asTarget(await request(), kind);
    } catch (error) {
      if (error instanceof ApiException && error.code === 404) throw await explainNotFound(namespace, name, error);
      throw new Error(describeApiError(error), { cause: error });
    }
  };

  return {
    get: (namespace, name) => call(namespace, name, () => api.getNamespacedCustomObject(target(namespace, name))),
    requestSync: (namespace, name, value) =>
      call(namespace, name, () =>
        api.patchNamespacedCustomObject(
          { ...target(namespace, name), body: { metadata: { annotations: { [ANNOTATION_SYNC_REQUESTED_AT]: value } } } },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        ),
      ),
  };
}

/**
 * One line for an API error: the Status message the API server sent (e.g.
 * "... is forbidden: User ... cannot patch ..."), not the whole response that
 * client-node puts in its message.
 */
export function describeApiError(error: unknown): string {
  if (error instanceof ApiException) {
    const body: unknown = error.body;
    let message: unknown;
    if (typeof body === 'string') {
      try {
        const parsed: unknown = JSON.parse(body);
        if (isRecord(parsed)) message = parsed['message'];
      } catch {
        message = body.trim() || undefined;
      }
    } else if (isRecord(body)) {
      message = body['message'];
    }
    return `HTTP ${error.code}${typeof message === 'string' && message ? `: ${message}` : ''}`;
  }
  return error instanceof Error ? error.message : String(error);
}

/** A fresh RFC 3339 request value, in milliseconds so two requests in one second still differ. */
export function requestValue(now: Date): string {
  return now.toISOString();
}

/** A Go-style rendering of a duration, as flux prints its timeouts: 5m0s, 1m30s, 45s. */
export function formatDuration(ms: number): string {
  const totalSeconds = Math.round(ms / 1000);
  const hours = Math.floor(totalSeconds / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const seconds = totalSeconds % 60;
  if (hours > 0) return `${hours}h${minutes}m${seconds}s`;
  if (minutes > 0) return `${minutes}m${seconds}s`;
  return `${seconds}s`;
}

/** The outcome of a handled request: whether it succeeded, and the lines to print. */
export interface Outcome {
  ok: boolean;
  lines: string[];
}

/**
 * Describes an object whose status answers a sync request: the Ready
 * condition's reason and message, the other conditions that explain a
 * failure, and the counts from status.
 */
export function describeOutcome(target: SyncTarget): Outcome {
  const status = target.status ?? {};
  const conditions = status.conditions;
  const ready = findCondition(conditions, ConditionType.Ready);
  const connected = findCondition(conditions, ConditionType.Connected);
  const stalled = findCondition(conditions, ConditionType.Stalled);
  const show = (condition: { type: string; status: string; reason: string; message: string }): string =>
    `${condition.type}=${condition.status} (${condition.reason})${condition.message ? `: ${condition.message}` : ''}`;

  const lines: string[] = [];
  let ok: boolean;
  if (ready?.status === 'True') {
    ok = true;
    lines.push(`✔ synced: ${show(ready)}`);
  } else if (ready?.reason === Reason.Suspended) {
    // A suspended object answers a request by testing the connection only.
    ok = connected?.status === 'True';
    lines.push(ok ? `✔ suspended: the connection test passed; ${target.kind === 'CasdoorServer' ? 'nothing was written to Casdoor' : 'no user was written'}` : '✗ suspended: the connection test failed');
    lines.push(`  ${show(ready)}`);
    if (connected) lines.push(`  ${show(connected)}`);
    return { ok, lines };
  } else {
    ok = false;
    lines.push(ready ? `✗ sync failed: ${show(ready)}` : '✗ sync failed: status has no Ready condition');
    if (connected && connected.status !== 'True') lines.push(`  ${show(connected)}`);
    if (stalled?.status === 'True') lines.push(`  ${show(stalled)} (a person must act before it can succeed)`);
  }

  lines.push(...(target.kind === 'CasdoorServer' ? serverCounts(target) : syncerCounts(target)));
  if (!ok) lines.push(`  last successful sync: ${status.lastSuccessfulSyncTime ?? 'never'}`);
  return { ok, lines };
}

function syncerCounts(syncer: WeComSyncer): string[] {
  const status = syncer.status ?? {};
  const lines: string[] = [];
  if (status.users) {
    const { total, active, forbidden } = status.users;
    lines.push(`  users: ${total} total, ${active} active, ${forbidden} forbidden`);
  }
  if (status.departments !== undefined) lines.push(`  departments: ${status.departments}`);
  if (status.lastSync) {
    const { created, updated, unchanged, removed, failed } = status.lastSync;
    lines.push(`  last sync: ${created} created, ${updated} updated, ${unchanged} unchanged, ${removed} removed, ${failed} failed`);
  }
  return lines;
}

function serverCounts(server: CasdoorServer): string[] {
  const status = server.status ?? {};
  const lines: string[] = [];
  for (const [what, counts] of [['users', status.users], ['groups', status.groups]] as const) {
    if (counts) lines.push(`  ${what}: ${counts.inSync}/${counts.selected} in sync, ${counts.failed} failed, ${counts.skipped} skipped`);
  }
  if (status.lastSync) {
    const { created, updated, unchanged, deleted, adopted, failed } = status.lastSync;
    lines.push(`  last comparison: ${created} created, ${updated} updated, ${unchanged} unchanged, ${deleted} deleted, ${adopted} adopted, ${failed} failed`);
  }
  for (const failure of status.failures?.slice(0, 5) ?? []) lines.push(`  not written: ${failure.kind} ${failure.name}: ${failure.reason}`);
  return lines;
}

function isExpected(error: unknown): error is SyncerNotFoundError | CrdNotInstalledError {
  return error instanceof SyncerNotFoundError || error instanceof CrdNotInstalledError;
}

/**
 * Requests a sync and, unless told not to, waits until status says it was
 * handled. Returns the exit status; never throws for what can go wrong on
 * the cluster, which it reports on `term` instead.
 */
export async function runSync(client: SyncerClient, request: SyncRequest, term: Terminal, clock: Clock = systemClock): Promise<ExitCode> {
  const { name, namespace } = request;
  const kind = request.kind ?? 'WeComSyncer';
  const key = `${namespace}/${name}`;
  let value = requestValue(clock.now());

  term.err(`► annotating ${kind} ${name} in ${namespace} namespace`);
  try {
    await client.requestSync(namespace, name, value);
  } catch (error) {
    term.err(`✗ ${isExpected(error) ? error.message : `could not annotate ${kind.toLowerCase()} ${key}: ${describeApiError(error)}`}`);
    return ExitCode.Failed;
  }
  term.err(`✔ ${kind} annotated: ${ANNOTATION_SYNC_REQUESTED_AT}=${value}`);
  if (!request.wait) return ExitCode.Ok;

  term.err(kind === 'CasdoorServer' ? '◎ waiting for the comparison with Casdoor to finish' : '◎ waiting for the sync to finish');
  const deadline = clock.now().getTime() + request.timeoutMs;
  let progress: string | undefined;
  let lastError: string | undefined;
  for (;;) {
    let syncer: SyncTarget | undefined;
    try {
      syncer = await client.get(namespace, name);
      lastError = undefined;
    } catch (error) {
      // Deleted while we wait: it will never answer. Anything else (an API
      // server restart, a dropped connection) may pass, so keep polling.
      if (isExpected(error)) {
        term.err(`✗ ${error.message}`);
        return ExitCode.Failed;
      }
      lastError = describeApiError(error);
    }
    if (syncer) {
      const current = syncer.metadata.annotations?.[ANNOTATION_SYNC_REQUESTED_AT];
      if (current !== undefined && current !== value && syncer.status?.lastHandledSyncRequest !== value) {
        // Someone requested again before our request was answered; the sync
        // that answers theirs also answers ours, and ours may never be answered alone.
        term.err(`◎ a newer request (${current}) replaced ours; waiting for it instead`);
        value = current;
      }
      if (syncer.status?.lastHandledSyncRequest === value) {
        const outcome = describeOutcome(syncer);
        for (const line of outcome.lines) term.out(line);
        return outcome.ok ? ExitCode.Ok : ExitCode.Failed;
      }
      const reconciling = findCondition(syncer.status?.conditions, ConditionType.Reconciling);
      if (reconciling?.status === 'True' && reconciling.message !== progress) {
        progress = reconciling.message;
        term.err(`◎ ${progress}`);
      }
    }
    const left = deadline - clock.now().getTime();
    if (left <= 0) {
      term.err(
        `✗ timed out after ${formatDuration(request.timeoutMs)} waiting for ${kind.toLowerCase()} ${key} to handle the sync request ${value}` +
          (lastError ? ` (last error: ${lastError})` : '') +
          '; the request stands and the operator will still answer it (is the operator running?)',
      );
      return ExitCode.Failed;
    }
    await clock.sleep(Math.min(request.pollMs ?? DEFAULT_POLL_MS, left));
  }
}
