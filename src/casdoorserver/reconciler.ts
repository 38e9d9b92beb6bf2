import type { Logger } from 'pino';
import { type CasdoorServer, type CasdoorServerStatus, type PushFailure } from '../api/casdoor-server.ts';
import { ConditionType, findCondition, Reason } from '../api/conditions.ts';
import { API_VERSION, ANNOTATION_SYNC_REQUESTED_AT } from '../api/group.ts';
import type { CasdoorClient } from '../casdoor/client.ts';
import { CasdoorErrorReason, isCasdoorError } from '../casdoor/errors.ts';
import type { EventRecorder } from '../runtime/events.ts';
import { keyOf } from '../runtime/key.ts';
import type { Reconciler, Result } from '../runtime/reconcile.ts';
import { assertSecretMayGo, OriginNotAllowed } from '../secrets/origins.ts';
import { inputsDigest, matchesDigest, type SecretReader, SecretProblem } from '../secrets/reader.ts';
import { OwnStatuses } from '../shared/own-status.ts';
import { decideSync, intervalMs, stalledRecheckMs, SyncTrigger } from '../shared/schedule.ts';
import { compareAll, testConnection } from './compare.ts';
import type { PushKind, SelectedObject } from './objects.ts';
import { pushChanges } from './push.ts';
import { selects } from './selector.ts';
import { objectRef } from './refs.ts';
import { ServerState } from './state.ts';
import { comparingStatus, finalServerStatus, type PushOutcome, pushedStatus } from './status.ts';

/** A selected object with the labels a selector reads. */
export type CachedObject = SelectedObject & { labels?: Readonly<Record<string, string>> };

/** What the reconciler needs from the outside world; all of it injected. */
export interface ServerDeps {
  getServer(key: string): CasdoorServer | undefined;
  /** Every CasdoorUser or CasdoorGroup of a namespace, as the cache holds it. */
  objects(namespace: string, kind: PushKind): CachedObject[];
  /** One of them, or undefined. */
  object(namespace: string, kind: PushKind, name: string): CachedObject | undefined;
  readSecret: SecretReader;
  /** A Casdoor client for (endpoint, client ID, client secret), making the calls of the server `key`. */
  casdoorClient(endpoint: string, clientId: string, clientSecret: string, key: string): CasdoorClient;
  writeStatus(server: CasdoorServer, status: CasdoorServerStatus): Promise<void>;
  events: EventRecorder;
  logger: Logger;
  now?: () => Date;
  /** Writes in flight at once. */
  concurrency?: number;
  /** Told when a full comparison (or a suspended server's connection test) ends: for metrics. */
  onComparisonFinished?(key: string, outcome: PushOutcome, durationMs: number): void;
}

/** Failures only a person can fix: Casdoor is not called again until the Secret, the spec or a sync request changes. */
const HUMAN_NEEDED: ReadonlySet<string> = new Set([CasdoorErrorReason.InvalidCredentials, Reason.URLNotAllowed]);

/** Thrown after status is written, so the work queue retries with backoff. */
class RetryableError extends Error {}

/**
 * Reconciles one CasdoorServer. A full comparison with Casdoor runs on the
 * first reconcile in this process, on a spec change, a sync request, the
 * interval or after a failure; in between, objects changed in Kubernetes are
 * pushed one write each, and deletions are gathered and judged together.
 */
export class CasdoorServerReconciler implements Reconciler {
  readonly #deps: ServerDeps;
  readonly #now: () => Date;
  readonly #states = new Map<string, ServerState>();
  readonly #ownStatuses = new OwnStatuses<CasdoorServerStatus>();

  constructor(deps: ServerDeps) {
    this.#deps = deps;
    this.#now = deps.now ?? (() => new Date());
  }

  /** An object the server may select changed or went: it is pushed (or its deletion gathered) at the next reconcile. */
  objectChanged(serverKey: string, kind: PushKind, name: string): void {
    this.#states.get(serverKey)?.pending.add(objectRef(kind, name));
  }

  /** Whether the server pushed the object: a change of it concerns the server even once it is no longer selected. */
  hasWritten(serverKey: string, kind: PushKind, name: string): boolean {
    return this.#states.get(serverKey)?.targetOf(objectRef(kind, name)) !== undefined;
  }

  async reconcile(key: string, signal: AbortSignal): Promise<Result> {
    const cached = this.#deps.getServer(key);
    if (!cached || cached.metadata.deletionTimestamp) {
      // Deleting a CasdoorServer writes nothing to Casdoor: what it managed stays there.
      await this.#states.get(key)?.close();
      this.#states.delete(key);
      this.#ownStatuses.forget(key);
      return {};
    }
    const server = this.#ownStatuses.effective(key, cached);
    let state = this.#states.get(key);
    if (!state || state.uid !== server.metadata.uid) {
      await state?.close();
      state = new ServerState(server.metadata.uid);
      this.#states.set(key, state);
    }
    const logger = this.#deps.logger.child({ casdoorServer: key });
    const now = this.#now();
    const decision = decideSync(server, now);
    const full = decision.trigger ?? (state.compared ? undefined : 'first comparison of this process');

    const stalled = findCondition(server.status?.conditions, ConditionType.Stalled);
    const recheck: ReadonlySet<string | undefined> = new Set([undefined, SyncTrigger.IntervalElapsed, SyncTrigger.Interrupted]);
    if (stalled?.status === 'True' && HUMAN_NEEDED.has(stalled.reason) && recheck.has(decision.trigger)) {
      // Stalled on credentials: Casdoor is called again only when what failed changed, after a restart too.
      // The Secret is re-read on the recheck's schedule, not at every CasdoorUser event (each costs an scrypt).
      if (now.getTime() < state.nextRecheckAt) return { requeueAfterMs: state.nextRecheckAt - now.getTime() };
      const recheckMs = stalledRecheckMs(stalled.lastTransitionTime, now);
      state.nextRecheckAt = now.getTime() + recheckMs;
      if (!(await this.#credentialsChanged(server, stalled.reason, logger))) return { requeueAfterMs: recheckMs };
    } else if (!full) {
      return this.#push(key, server, state, logger, signal, decision.nextSyncAt);
    }
    return this.#compare(key, cached, server, state, logger, signal, full ?? 'Secret changed');
  }

  /** A full comparison (or, suspended, the connection test), with its final status. */
  async #compare(key: string, cached: CasdoorServer, server: CasdoorServer, state: ServerState, logger: Logger, signal: AbortSignal, trigger: string): Promise<Result> {
    const started = this.#now();
    const request = server.metadata.annotations?.[ANNOTATION_SYNC_REQUESTED_AT];
    this.#ownStatuses.begin(key, cached, server);
    logger.info({ trigger }, server.spec.suspend ? 'testing the connection to Casdoor (suspended)' : 'comparing with Casdoor');
    let credentials: ServerCredentials | undefined;
    let outcome: PushOutcome;
    try {
      credentials = await this.#readCredentials(server);
      assertCredentialsMayGo(server, credentials);
      const client = this.#client(state, server, credentials);
      if (!server.spec.suspend) {
        const progress = comparingStatus(server, started);
        this.#ownStatuses.progress(key, progress);
        await this.#deps.writeStatus(server, progress).catch(() => {});
      }
      try {
        await testConnection(client, server.spec.organizations, signal);
      } catch (error) {
        throw new ConnectFailure(error);
      }
      if (server.spec.suspend) {
        outcome = { kind: 'suspended', organizations: server.spec.organizations.length };
      } else {
        const namespace = server.metadata.namespace ?? 'default';
        const users = this.#selected(server, 'CasdoorUser');
        const groups = this.#selected(server, 'CasdoorGroup');
        state.pending.clear();
        const comparison = await compareAll({
          client, server, users, groups, state, signal,
          ...(this.#deps.concurrency !== undefined && { concurrency: this.#deps.concurrency }),
          onRefused: (failure) => void this.#warn(namespace, failure),
        });
        for (const failure of state.failures.values()) if (/spec\.organizations/.test(failure.reason)) void this.#warn(namespace, failure);
        outcome = { kind: 'compared', counts: comparison.counts, ...state.standing(users, groups) };
        logger.info({ ...comparison.counts, ...(comparison.blocked && { blocked: comparison.blocked }) }, 'compared with Casdoor');
      }
    } catch (error) {
      outcome = this.#failure(error);
      if (outcome.kind === 'failed' && outcome.stalled && credentials) outcome.failedInputsDigest = await inputsDigest(stallInputs(server, credentials, outcome.reason));
      logger.warn({ reason: outcome.kind === 'failed' ? outcome.reason : undefined, err: outcome.kind === 'failed' ? outcome.message : undefined }, 'comparison with Casdoor failed');
    }
    const finished = this.#now();
    this.#deps.onComparisonFinished?.(key, outcome, finished.getTime() - started.getTime());
    const nextSyncAt = new Date(finished.getTime() + intervalMs(server));
    const status = finalServerStatus(server, outcome, finished, nextSyncAt, request);
    try {
      await this.#deps.writeStatus(server, status);
      this.#ownStatuses.written(key, server.metadata.uid, status);
    } catch (error) {
      this.#ownStatuses.forget(key);
      throw error;
    }
    const ready = findCondition(status.conditions, ConditionType.Ready);
    if (ready) await this.#deps.events.record(server, ready.status === 'True' || outcome.kind === 'suspended' ? 'Normal' : 'Warning', ready.reason, ready.message);
    if (outcome.kind === 'failed') {
      if (outcome.stalled) return { requeueAfterMs: stalledRecheckMs(findCondition(status.conditions, ConditionType.Stalled)?.lastTransitionTime, finished) };
      throw new RetryableError(outcome.message);
    }
    return { requeueAfterMs: Math.max(1000, nextSyncAt.getTime() - this.#now().getTime()) };
  }

  /** Pushes what changed since the last comparison, and writes status when where things stand moved. */
  async #push(key: string, server: CasdoorServer, state: ServerState, logger: Logger, signal: AbortSignal, nextSyncAt: Date): Promise<Result> {
    const now = this.#now();
    const untilComparison = Math.max(1000, nextSyncAt.getTime() - now.getTime());
    if (server.spec.suspend || (state.pending.size === 0 && state.deletions.size === 0)) return { requeueAfterMs: untilComparison };
    const namespace = server.metadata.namespace ?? 'default';
    let credentials: ServerCredentials;
    try {
      credentials = await this.#readCredentials(server);
      assertCredentialsMayGo(server, credentials);
    } catch {
      // The next full comparison reports it; pushes wait.
      return { requeueAfterMs: untilComparison };
    }
    const pending = [...state.pending];
    let result: Awaited<ReturnType<typeof pushChanges>>;
    try {
      result = await pushChanges({
        client: this.#client(state, server, credentials),
        server, state, now: now.getTime(), signal,
        lookup: (kind, name) => this.#deps.object(namespace, kind, name),
        ...(this.#deps.concurrency !== undefined && { concurrency: this.#deps.concurrency }),
        onRefused: (failure) => void this.#warn(namespace, failure),
      });
    } catch (error) {
      // Casdoor itself failed mid-push: nothing is lost. The changes stay pending, and the retry
      // (with backoff) is a full comparison, which reports the failure in status.
      for (const ref of pending) state.pending.add(ref);
      state.compared = false;
      logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'pushing to Casdoor failed; comparing in full next');
      throw error;
    }
    if (result.writes > 0) logger.info({ writes: result.writes }, 'pushed changes to Casdoor');
    const status = pushedStatus(server, state.standing(this.#selected(server, 'CasdoorUser'), this.#selected(server, 'CasdoorGroup')), this.#now());
    if (JSON.stringify(status) !== JSON.stringify(server.status)) {
      await this.#deps.writeStatus(server, status);
      this.#ownStatuses.begin(key, server, server);
      this.#ownStatuses.written(key, server.metadata.uid, status);
    }
    const due = result.deletionsDueAt !== undefined ? Math.max(100, result.deletionsDueAt - this.#now().getTime()) : untilComparison;
    return { requeueAfterMs: Math.min(due, untilComparison) };
  }

  /** The selected objects of a kind. */
  #selected(server: CasdoorServer, kind: PushKind): CachedObject[] {
    return this.#deps.objects(server.metadata.namespace ?? 'default', kind).filter((o) => selects(server.spec.selector, o.labels));
  }

  /** Reads the client ID and secret the spec names. Throws SecretProblem for a missing or unusable key. */
  async #readCredentials(server: CasdoorServer): Promise<ServerCredentials> {
    const namespace = server.metadata.namespace ?? 'default';
    const ref = server.spec.credentialsRef;
    const id = await this.#deps.readSecret(namespace, { name: ref.name, key: ref.clientIdKey });
    const secret = await this.#deps.readSecret(namespace, { name: ref.name, key: ref.clientSecretKey });
    return { clientId: id.value, clientSecret: secret.value, allowedURLs: secret.allowedURLs };
  }

  /** The server's client, made again when the endpoint or the credentials changed. */
  #client(state: ServerState, server: CasdoorServer, credentials: { clientId: string; clientSecret: string }): CasdoorClient {
    const inputs = JSON.stringify([server.spec.endpoint, credentials.clientId, credentials.clientSecret]);
    if (state.client?.inputs !== inputs) {
      void state.client?.client.close();
      const key = keyOf(server.metadata.namespace, server.metadata.name);
      state.client = { inputs, client: this.#deps.casdoorClient(server.spec.endpoint, credentials.clientId, credentials.clientSecret, key) };
    }
    return state.client.client;
  }

  /** Whether what a stall on credentials depends on changed; a Secret now missing counts as changed. */
  async #credentialsChanged(server: CasdoorServer, reason: string, logger: Logger): Promise<boolean> {
    try {
      const credentials = await this.#readCredentials(server);
      const failedWith = server.status?.failedInputsDigest;
      return typeof failedWith === 'string' && !(await matchesDigest(failedWith, stallInputs(server, credentials, reason)));
    } catch (error) {
      if (error instanceof SecretProblem) return true;
      logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'could not re-read the credentials of a stalled CasdoorServer');
      return false;
    }
  }

  /** A Warning Event on the object Casdoor refused (or that may not be written). */
  async #warn(namespace: string, failure: PushFailure): Promise<void> {
    const object = this.#deps.object(namespace, failure.kind as PushKind, failure.name);
    if (!object) return;
    await this.#deps.events.record({ apiVersion: API_VERSION, kind: object.kind, metadata: { name: object.name, namespace, ...(object.uid && { uid: object.uid }) } }, 'Warning', 'NotWrittenToCasdoor', failure.reason);
  }

  #failure(thrown: unknown): PushOutcome {
    const connect = thrown instanceof ConnectFailure;
    const error = connect ? thrown.cause : thrown;
    if (error instanceof SecretProblem) return { kind: 'failed', reason: error.reason, message: `${error.message}. Retrying with backoff.`, stalled: false, connected: 'unchanged' };
    if (error instanceof OriginNotAllowed) return { kind: 'failed', reason: error.reason, message: error.message, stalled: true, connected: 'unknown' };
    if (isCasdoorError(error)) {
      const stalled = HUMAN_NEEDED.has(error.reason);
      const retry = stalled ? ' Casdoor is not called again until the Secret, the spec or a sync request changes.' : ' Retrying with backoff.';
      return { kind: 'failed', reason: error.reason, message: `${error.message.replace(/\.?$/, '.')}${retry}`, stalled, connected: connect ? false : 'unchanged' };
    }
    const message = error instanceof Error ? error.message : String(error);
    return { kind: 'failed', reason: Reason.SyncFailed, message: `Comparison failed: ${message}. Retrying with backoff.`, stalled: false, connected: 'unchanged' };
  }
}

/** A CasdoorServer's client credentials, and where their Secret allows them to go. */
interface ServerCredentials {
  clientId: string;
  clientSecret: string;
  allowedURLs: string | undefined;
}

/** Throws OriginNotAllowed unless the credentials' Secret lists the endpoint's origin: nothing is built in for Casdoor. */
function assertCredentialsMayGo(server: CasdoorServer, credentials: ServerCredentials): void {
  assertSecretMayGo({ namespace: server.metadata.namespace ?? 'default', secret: server.spec.credentialsRef.name, annotation: credentials.allowedURLs, url: server.spec.endpoint, builtIn: [] });
}

/** What a stall depends on: the credentials, generation and request, and for URLNotAllowed where the Secret may go. */
function stallInputs(server: CasdoorServer, credentials: ServerCredentials, reason: string): (string | undefined)[] {
  const inputs = [server.metadata.generation?.toString(), server.metadata.annotations?.[ANNOTATION_SYNC_REQUESTED_AT], credentials.clientId, credentials.clientSecret];
  if (reason === Reason.URLNotAllowed) inputs.push(credentials.allowedURLs);
  return inputs;
}

/** A failure of the connection test, as opposed to one later in the comparison. */
class ConnectFailure extends Error {
  constructor(cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
  }
}
