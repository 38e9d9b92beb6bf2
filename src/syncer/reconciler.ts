import type { Logger } from 'pino';
import { CASDOOR_GROUP_KIND } from '../api/casdoor-group.ts';
import { CASDOOR_USER_KIND } from '../api/casdoor-user.ts';
import { ANNOTATION_EVENT_RECEIVED_AT, ANNOTATION_SYNC_REQUESTED_AT } from '../api/group.ts';
import { readCallbackSecrets } from '../callback/secrets.ts';
import { ConditionType, findCondition, Reason } from '../api/conditions.ts';
import type { WeComSyncer, WeComSyncerStatus } from '../api/wecom-syncer.ts';
import type { Reconciler, Result } from '../runtime/reconcile.ts';
import { OriginNotAllowed } from '../secrets/origins.ts';
import { inputsDigest, matchesDigest, type SecretReader, SecretProblem } from '../secrets/reader.ts';
import type { DepartmentListing, WeComClient } from '../wecom/client.ts';
import { isWeComError, type WeComError, WeComErrorReason } from '../wecom/errors.ts';
import { fetchOrganization, type Organization } from '../wecom/fetch.ts';
import { applyPlan, type ApplyCounts, DEFAULT_WRITE_CONCURRENCY } from './apply.ts';
import { type DesiredObject, desiredGroups, desiredObject, desiredUserMaker, desiredUsers, memberJudge, type ManagedKind, managedLabels, ownerReferenceTo } from './desired.ts';
import { EarlyCreates, type EarlyCreated } from './early-creates.ts';
import type { EventRecorder } from '../runtime/events.ts';
import { assertCredentialsMayGo, type Credentials, readCredentials, stallInputs } from './credentials.ts';
import { casdoorUserName } from './mapping.ts';
import { type ObjectWriter, statusOf } from './object-writer.ts';
import { OwnStatuses } from '../shared/own-status.ts';
import type { OwnedIndex } from './owned-index.ts';
import { HandEdits } from './hand-edits.ts';
import { type Plan, planSync } from './plan.ts';
import type { StoredObject } from './stored.ts';
import { decideSync, intervalMs, stalledRecheckMs, SyncTrigger } from '../shared/schedule.ts';
import { finalStatus, progressStatus, type SyncOutcome } from './status.ts';
import { StatusChannel } from './status-channel.ts';

/** What the reconciler needs from the outside world; all of it injected. */
export interface SyncerDeps {
  /** The cached WeComSyncer of a key, or undefined when it is gone. */
  getSyncer(key: string): WeComSyncer | undefined;
  users: OwnedIndex;
  groups: OwnedIndex;
  readSecret: SecretReader;
  writer: ObjectWriter;
  writeStatus(syncer: WeComSyncer, status: WeComSyncerStatus): Promise<void>;
  events: EventRecorder;
  /** A WeCom client for (apiURL, corpId, secret), making the calls of the syncer `key`; clients share one token cache. */
  wecomClient(apiURL: string, corpId: string, secret: string, key: string): WeComClient;
  logger: Logger;
  now?: () => Date;
  /** Writes in flight at once per sync. */
  writeConcurrency?: number;
  /** Departments fetched at once. */
  fetchConcurrency?: number;
  /** The least time between two progress writes of status. */
  progressIntervalMs?: number;
  /** Told when a sync (or a suspended syncer's connection test) ends, however it ended: for metrics. */
  onSyncFinished?(key: string, outcome: SyncOutcome, durationMs: number): void;
}

/**
 * Failures of the credentials that only a person can fix: WeCom is not called again
 * until the Secret (its value or its allowed-urls), the spec or a sync request changes.
 */
const HUMAN_NEEDED: ReadonlySet<string> = new Set([
  Reason.URLNotAllowed,
  WeComErrorReason.InvalidCorpID,
  WeComErrorReason.InvalidSecret,
  WeComErrorReason.IPNotAllowed,
  WeComErrorReason.OutOfScope,
  WeComErrorReason.SecretNotAllowed,
]);

/** The least time between two syncs started by hand edits (after a restart, before a sync of its own). */
const HAND_EDIT_SYNC_MIN_MS = 60_000;

/** Thrown after status is written, so the work queue retries with backoff. */
class RetryableSyncError extends Error {}

/** The WeComSyncer was deleted (or replaced) mid-sync: its writes would only be garbage-collected again. */
class SyncerGone extends Error {}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

/**
 * Reconciles one WeComSyncer: decides whether a sync is due, reads the
 * Secret, fetches WeCom, plans the diff against the stored objects, applies
 * it, and writes status once at the end (plus progress while it runs).
 */
export class WeComSyncerReconciler implements Reconciler {
  readonly #deps: SyncerDeps;
  readonly #now: () => Date;
  /** What each syncer's syncs wrote, and the hand edits seen since. */
  readonly #handEdits = new HandEdits();
  /** The creates of each syncer's sync while its fetch runs, told of deletions the cache sees meanwhile. */
  readonly #earlyCreates = new Map<string, EarlyCreates>();
  /** When a sync for hand edits last ran, per syncer: such syncs are rate-limited. */
  readonly #handSyncAt = new Map<string, number>();
  /** What this process last wrote to each syncer's status, while the informer has not delivered it. */
  /** status.callback is left out: the event receivers write their counts into it, whichever replica they run on. */
  readonly #ownStatuses = new OwnStatuses<WeComSyncerStatus>({ ignoredFields: ['callback'] });

  constructor(deps: SyncerDeps) {
    this.#deps = deps;
    this.#now = deps.now ?? (() => new Date());
  }

  /** Told by the cache of each change of an owned object; whether the syncer must reconcile ({@link HandEdits.changed}). */
  ownedObjectChanged(key: string, kind: ManagedKind, before: StoredObject | undefined, after: StoredObject | undefined, firstList = false): boolean {
    if (kind === CASDOOR_USER_KIND && after === undefined && before) this.#earlyCreates.get(key)?.deleted(before.metadata.name);
    return this.#handEdits.changed(key, kind, before, after, firstList);
  }

  async reconcile(key: string, signal: AbortSignal): Promise<Result> {
    const cached = this.#deps.getSyncer(key);
    if (!cached || cached.metadata.deletionTimestamp) {
      this.#handEdits.forget(key);
      this.#handSyncAt.delete(key);
      this.#ownStatuses.forget(key);
      return {};
    }
    const syncer = this.#ownStatuses.effective(key, cached);
    const logger = this.#deps.logger.child({ namespace: syncer.metadata.namespace, name: syncer.metadata.name });
    const now = this.#now();
    const decision = decideSync(syncer, now);
    let trigger = decision.trigger;

    // Stalled on credentials, only a change of the spec, a sync request or the
    // Secret's content may call WeCom again: not the interval, not a restart's resume.
    const stalled = findCondition(syncer.status?.conditions, ConditionType.Stalled);
    const credentialsStalled = stalled?.status === 'True' && HUMAN_NEEDED.has(stalled.reason);
    if (credentialsStalled && (trigger === undefined || trigger === SyncTrigger.IntervalElapsed || trigger === SyncTrigger.Interrupted || trigger === SyncTrigger.EventReceived)) {
      // Re-read the Secrets (5 s after the stall, then less often, at least once a minute) to notice
      // a fix; WeCom is called only if they changed. The digest of what failed is in status, so a
      // restarted operator knows it too; a status without one (an older version's) counts as unchanged.
      if (!(await this.#credentialsChanged(syncer, stalled.reason, logger))) return { requeueAfterMs: stalledRecheckMs(stalled.lastTransitionTime, now) };
      trigger = SyncTrigger.SecretChanged;
    }
    if (!trigger) {
      const untilDue = { requeueAfterMs: Math.max(1000, decision.nextSyncAt.getTime() - now.getTime()) };
      if (syncer.spec.suspend || !(await this.#putBackHandEdits(key, syncer, logger, signal))) return untilDue;
      // Hand edits only a sync can put back: seen before this process ran a sync, or with no version known.
      const since = now.getTime() - (this.#handSyncAt.get(key) ?? 0);
      if (since < HAND_EDIT_SYNC_MIN_MS) return { requeueAfterMs: Math.min(untilDue.requeueAfterMs, HAND_EDIT_SYNC_MIN_MS - since) };
      trigger = SyncTrigger.EditedByHand;
    }
    if (trigger === SyncTrigger.EditedByHand) this.#handSyncAt.set(key, now.getTime());
    this.#handEdits.syncing(key);

    logger.info({ trigger }, syncer.spec.suspend ? 'testing the connection (suspended)' : 'sync starting');
    const request = syncer.metadata.annotations?.[ANNOTATION_SYNC_REQUESTED_AT];
    const event = syncer.metadata.annotations?.[ANNOTATION_EVENT_RECEIVED_AT];
    this.#ownStatuses.begin(key, cached, syncer);
    const statusWrites = new StatusChannel(syncer, this.#deps.writeStatus, (status) => this.#ownStatuses.progress(key, status));
    const attempt: Attempt = {};
    let outcome: SyncOutcome;
    try {
      outcome = await this.#sync(key, syncer, trigger, logger, signal, statusWrites, attempt);
    } catch (error) {
      if (error instanceof SyncerGone) {
        logger.info('the WeComSyncer was deleted mid-sync; stopped writing');
        // Forgets it, or syncs its successor of the same name.
        return this.reconcile(key, signal);
      }
      outcome = this.#failure(error);
      if (attempt.createdBeforeFailure) {
        outcome.message += ` ${attempt.createdBeforeFailure} members new to the operator were created from the departments listed; no other user changed.`;
      }
      if (outcome.stalled && HUMAN_NEEDED.has(outcome.reason) && attempt.credentials) {
        outcome.failedInputsDigest = await inputsDigest(stallInputs(syncer, attempt.credentials, outcome.reason));
      }
      logger.warn({ reason: outcome.kind === 'failed' ? outcome.reason : undefined, err: outcome.kind === 'failed' ? outcome.message : undefined }, 'sync failed');
    }
    this.#deps.onSyncFinished?.(key, outcome, this.#now().getTime() - now.getTime());
    const finished = this.#now();
    const nextSyncAt = new Date(finished.getTime() + intervalMs(syncer));
    const status = finalStatus(syncer, outcome, finished, nextSyncAt, request, { ...(attempt.callbackPath !== undefined && { path: attempt.callbackPath }), ...(event !== undefined && { event }) });
    try {
      await statusWrites.final(status);
      this.#ownStatuses.written(key, syncer.metadata.uid, status);
    } catch (error) {
      // What is stored now is unknown (perhaps a progress write): the cache decides again.
      this.#ownStatuses.forget(key);
      // Deleted just as the sync ended: nothing to report to, and no error.
      if (statusOf(error) === 404 && !this.#exists(key, syncer)) return this.reconcile(key, signal);
      throw error;
    }
    await this.#recordEvent(syncer, outcome, status);

    if (outcome.kind === 'failed') {
      if (outcome.stalled) return { requeueAfterMs: stalledRecheckMs(findCondition(status.conditions, ConditionType.Stalled)?.lastTransitionTime, finished) };
      throw new RetryableSyncError(outcome.message);
    }
    if (outcome.kind === 'synced' && outcome.counts.failed + outcome.counts.groupsFailed > 0) {
      throw new RetryableSyncError('some objects could not be written');
    }
    return { requeueAfterMs: Math.max(1000, nextSyncAt.getTime() - this.#now().getTime()) };
  }

  /**
   * Whether the inputs of a stall on credentials changed since the stall. A
   * Secret or key now missing counts as changed: the sync then says so (and
   * sends nothing). Another read error is logged, and counts as unchanged.
   */
  async #credentialsChanged(syncer: WeComSyncer, reason: string, logger: Logger): Promise<boolean> {
    let credentials: Credentials;
    try {
      credentials = await readCredentials(this.#deps.readSecret, syncer);
    } catch (error) {
      if (error instanceof SecretProblem) return true;
      logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'could not re-read the Secret of a stalled syncer');
      return false;
    }
    const failedWith = syncer.status?.failedInputsDigest;
    return failedWith !== undefined && failedWith !== null && !(await matchesDigest(failedWith, stallInputs(syncer, credentials, reason)));
  }

  /**
   * The event path of a syncer with spec.callback. Its Secrets missing or unusable stop the events only, not
   * the syncs: a Warning Event and the log say so, and status keeps the path it had.
   */
  async #callbackPath(syncer: WeComSyncer, logger: Logger): Promise<string | undefined> {
    try {
      return (await readCallbackSecrets(this.#deps.readSecret, syncer))?.path;
    } catch (error) {
      if (!(error instanceof SecretProblem)) throw error;
      logger.warn({ err: error.message }, 'the event receiver\'s Secrets cannot be used; events are refused, syncs go on');
      await this.#deps.events.record(syncer, 'Warning', 'CallbackSecretProblem', `${error.message}. WeCom's events for this syncer are refused until it is fixed; the syncs go on.`);
      return undefined;
    }
  }

  /** Whether the cache still holds this very syncer (same uid), not being deleted. */
  #exists(key: string, syncer: WeComSyncer): boolean {
    const current = this.#deps.getSyncer(key);
    return current !== undefined && current.metadata.uid === syncer.metadata.uid && !current.metadata.deletionTimestamp;
  }

  async #sync(key: string, syncer: WeComSyncer, trigger: SyncTrigger, logger: Logger, signal: AbortSignal, statusWrites: StatusChannel, attempt: Attempt): Promise<SyncOutcome> {
    const namespace = syncer.metadata.namespace ?? 'default';
    const apiURL = new URL(syncer.spec.apiURL);
    if (apiURL.protocol === 'http:' && !LOOPBACK_HOSTS.has(apiURL.hostname)) {
      throw new SpecProblem(Reason.InsecureAPIURL, `apiURL ${apiURL.origin} uses plain http, which is allowed only for loopback hosts: the secret would cross the network unencrypted. Use https.`);
    }
    const credentials = await readCredentials(this.#deps.readSecret, syncer);
    attempt.credentials = credentials;
    // Where WeCom must send events: in status from the first attempt on, suspended or not, so the receiver can be set up.
    attempt.callbackPath = await this.#callbackPath(syncer, logger);
    // Before any connection is opened: an origin the Secret's owner did not allow receives nothing.
    assertCredentialsMayGo(syncer, credentials);
    const corpSecret = credentials.corp.value;
    const contactsSecret = credentials.contacts?.value;
    const baseURL = syncer.spec.apiURL.replace(/\/+$/, '');
    const client = this.#deps.wecomClient(baseURL, syncer.spec.corpId, corpSecret, key);

    if (syncer.spec.suspend) {
      const { departments } = await connect(client, signal);
      return { kind: 'suspended', departments: departments.length };
    }

    const startedNewGeneration = trigger === SyncTrigger.FirstSync || trigger === SyncTrigger.NewGeneration;
    await statusWrites.progress(progressStatus(syncer, `fetching from WeCom (${trigger})`, this.#now(), startedNewGeneration));
    const listing = await connect(client, signal);
    let lastProgress = Date.now();
    const progressEvery = this.#deps.progressIntervalMs ?? 3000;
    const progress = (message: string): void => {
      if (Date.now() - lastProgress < progressEvery) return;
      lastProgress = Date.now();
      void statusWrites.progress(progressStatus(syncer, message, this.#now(), startedNewGeneration));
    };

    // A syncer deleted mid-sync stops writing: garbage collection would only delete what it wrote.
    const gone = new AbortController();
    const writeSignal = AbortSignal.any([signal, gone.signal]);
    if (!this.#exists(key, syncer)) throw new SyncerGone();
    let written = 0;
    let total = 0;
    let fetched = false;
    const policy = syncer.spec.removedUsers;
    // A department that disappears (or every group, once syncGroups is off) is
    // deleted under Delete; Forbid and Keep keep the group: groups cannot be forbidden.
    const groupPolicy = policy === 'Delete' ? 'Delete' : 'Keep';
    const apply = (plan: Plan, kind: ManagedKind): Promise<ApplyCounts> =>
      applyPlan(plan, {
        namespace,
        kind,
        writer: this.#deps.writer,
        removal: kind === CASDOOR_GROUP_KIND ? groupPolicy : policy,
        concurrency: this.#deps.writeConcurrency ?? DEFAULT_WRITE_CONCURRENCY,
        now: this.#now().toISOString(),
        signal: writeSignal,
        onProgress: () => {
          if (!this.#exists(key, syncer)) gone.abort();
          written++;
          // While members are still being fetched, the fetch reports progress.
          if (fetched) progress(`written ${written}/${total}`);
        },
        onFailure: (name, error) => logger.warn({ object: name, err: error instanceof Error ? error.message : String(error) }, 'write failed'),
      });

    // Groups depend on the departments alone: they are created and updated while the
    // members are fetched, which is mostly waiting on WeCom. Removals wait for a complete fetch.
    const groups = desiredGroups(syncer, listing.departments);
    const groupWrites = planSync({ desired: groups.values(), stored: this.#deps.groups.of(key), policy: 'Keep', maxRemovals: 0 });
    // Kept before writing, so the watch events of our own writes already match it and queue nothing.
    this.#handEdits.want(key, CASDOOR_GROUP_KIND, groupWrites.wanted);
    total = writes(groupWrites);
    const groupsWritten = apply(groupWrites, CASDOOR_GROUP_KIND);
    // Members the cache does not hold are created as their department's listing arrives; groups first,
    // so a user's groups exist by the time the user does. Updates and removals wait for the whole fetch.
    const early = new EarlyCreates({
      isStored: (name) => this.#deps.users.has(key, name),
      nameOf: (member) => casdoorUserName(syncer.metadata.name, member.userid),
      toDesired: desiredUserMaker(syncer, listing.departments),
      create: (object) => this.#deps.writer.createNew(namespace, object),
      concurrency: this.#deps.writeConcurrency ?? DEFAULT_WRITE_CONCURRENCY,
      signal: writeSignal,
      onWritten: () => {
        if (!this.#exists(key, syncer)) gone.abort();
        written++;
      },
    });
    const startCreates = (): void => early.start();
    void groupsWritten.then(startCreates, startCreates);
    this.#earlyCreates.set(key, early);
    let organization: Organization | undefined;
    try {
      organization = await fetchOrganization(client, {
        departments: listing,
        // A syncer deleted mid-fetch stops the fetch too.
        signal: writeSignal,
        ...(this.#deps.fetchConcurrency !== undefined && { concurrency: this.#deps.fetchConcurrency }),
        ...(contactsSecret !== undefined && { contacts: this.#deps.wecomClient(baseURL, syncer.spec.corpId, contactsSecret, key) }),
        onMembers: (members) => early.offer(members),
        // A member found stored as wanted is let go as soon as its record is final: a resync of 100,000
        // holds about 26 MB less at its peak.
        settle: memberJudge(syncer, listing.departments, (name) => this.#deps.users.of(key).get(name)),
        onProgress: ({ departmentsDone, departmentsTotal }) => progress(`fetched ${departmentsDone}/${departmentsTotal} departments`),
      });
    } catch (error) {
      // Writes end before the sync does, however the fetch went; no create begins after a failed fetch.
      const finished = early.finish();
      this.#earlyCreates.delete(key);
      const groupCounts = await groupsWritten;
      const created = await finished;
      attempt.createdBeforeFailure = created.written.size;
      if (writes(groupWrites) + created.written.size > 0) {
        logger.info({ groups: groupCounts, usersCreated: created.written.size }, 'written while the members were fetched, before the fetch failed; no other user changed');
      }
      if (gone.signal.aborted && !signal.aborted) throw new SyncerGone();
      throw error;
    }
    const groupCounts = await groupsWritten;
    const created = await early.finish();
    this.#earlyCreates.delete(key);
    fetched = true;
    const userPlan = this.#planUsers(key, syncer, organization, created.written, logger);
    const members = organization.members.length;
    const departments = organization.departments.length;
    const rejected = organization.rejected.length === 0 ? undefined : {
      count: organization.rejected.length,
      examples: organization.rejected.slice(0, 3).map((r) => `${r.userid ?? `a record without a valid userid in department ${r.departmentId ?? '?'}`}: ${r.reason}`.slice(0, 200)),
    };
    // Let go of the fetched records before the writes: each object to write keeps what it needs of its
    // member and is let go once written, so the heap shrinks as the cache grows (about 50 MB at 100,000 members).
    organization = undefined;
    // Group removals are planned now, against the groups stored after the fetch.
    // Turning groups off is the user's own choice, not a WeCom mistake: the guard does not apply.
    const groupPlan = planSync({ desired: groups.values(), stored: this.#deps.groups.of(key), policy: groupPolicy, maxRemovals: syncer.spec.syncGroups ? syncer.spec.maxRemovals : '100%' });
    total += groupPlan.remove.length + writes(userPlan) + created.written.size + created.failed;
    logger.info({ members, departments, writes: total, createdWhileFetching: created.written.size }, 'planned');

    if (gone.signal.aborted || !this.#exists(key, syncer)) throw new SyncerGone();
    const groupRemovals = await apply({ ...groupPlan, create: [], update: [] }, CASDOOR_GROUP_KIND);
    groupCounts.removed += groupRemovals.removed;
    groupCounts.failed += groupRemovals.failed;
    const userCounts = await apply(userPlan, CASDOOR_USER_KIND);
    const undone = await this.#undoContradicted(namespace, userPlan, created, logger);
    userCounts.created += created.written.size - undone.deleted - undone.failed;
    userCounts.failed += undone.failed;
    if (gone.signal.aborted) throw new SyncerGone();
    const blocked = {
      ...(userPlan.blockedRemovals && { users: userPlan.blockedRemovals }),
      ...(groupPlan.blockedRemovals && { groups: groupPlan.blockedRemovals }),
    };
    logger.info({ ...userCounts, groups: groupCounts }, 'sync finished');
    return {
      kind: 'synced',
      departments,
      users: { total: userPlan.total, active: userPlan.total - userPlan.forbidden, forbidden: userPlan.forbidden },
      counts: {
        ...userCounts,
        unchanged: userPlan.unchanged,
        groupsCreated: groupCounts.created,
        groupsUpdated: groupCounts.updated,
        groupsRemoved: groupCounts.removed,
        groupsFailed: groupCounts.failed,
      },
      ...(Object.keys(blocked).length > 0 && { blocked }),
      ...(rejected && { rejected }),
    };
  }

  /**
   * Plans the user writes of a complete fetch, and records what they will be, so the watch events of
   * the writes match it. The desired objects are this method's alone: those not to be written go with it.
   */
  #planUsers(key: string, syncer: WeComSyncer, organization: Organization, created: ReadonlyMap<string, string>, logger: Logger): Plan {
    if (organization.rejected.length > 0) {
      logger.warn({ rejected: organization.rejected.slice(0, 20) }, `${organization.rejected.length} member records from WeCom were malformed and left as they are`);
    }
    if (organization.hiddenUserIds?.length) {
      logger.info({ count: organization.hiddenUserIds.length, sample: organization.hiddenUserIds.slice(0, 20) }, 'members exist in WeCom that the app secret cannot see; widen the app\'s visible scope to sync them');
    }
    const desired = desiredUsers(syncer, organization);
    if (desired.unidentifiedRejects > 0) {
      logger.warn({ count: desired.unidentifiedRejects }, 'member records without a usable userid: nobody is removed in this sync');
    }
    // A malformed record without a userid could be anyone: then nobody counts as gone.
    const storedUsers = this.#deps.users.of(key);
    const protectedNames = desired.unidentifiedRejects > 0 ? new Set(storedUsers.keys()) : desired.protectedUsers;
    const plan = planSync({ desired: desired.users, stored: storedUsers, created, protectedNames, policy: syncer.spec.removedUsers, maxRemovals: syncer.spec.maxRemovals });
    // Kept before writing, so the watch events of our own writes already match it and queue nothing.
    this.#handEdits.want(key, CASDOOR_USER_KIND, plan.wanted);
    return plan;
  }

  /**
   * Deletes what a sync created during its fetch from a record that the complete fetch no longer wants: its
   * userid turned out to clash in case with another's, and none of them is synced. The object did not exist
   * before this sync.
   */
  async #undoContradicted(namespace: string, plan: Plan, created: EarlyCreated, logger: Logger): Promise<{ deleted: number; failed: number }> {
    const contradicted = [...created.written.keys()].filter((name) => !plan.wanted.has(name));
    if (contradicted.length === 0) return { deleted: 0, failed: 0 };
    logger.warn({ objects: contradicted.slice(0, 20), count: contradicted.length }, 'deleting users this sync created from records that later listings contradicted (userids differing only in case)');
    let deleted = 0;
    for (const name of contradicted) {
      try {
        await this.#deps.writer.delete(namespace, CASDOOR_USER_KIND, name);
        deleted++;
      } catch (error) {
        logger.warn({ object: name, err: error instanceof Error ? error.message : String(error) }, 'write failed');
      }
    }
    return { deleted, failed: contradicted.length - deleted };
  }

  /**
   * Puts back objects edited or deleted by hand since the last sync, each from
   * its last version that matched. Returns whether some need a sync instead:
   * this process has not synced yet, or knows no version to put back.
   */
  async #putBackHandEdits(key: string, syncer: WeComSyncer, logger: Logger, signal: AbortSignal): Promise<boolean> {
    const namespace = syncer.metadata.namespace ?? 'default';
    const labels = managedLabels(syncer);
    const owner = ownerReferenceTo(syncer);
    let unknown = 0;
    for (const [kind, stored] of [[CASDOOR_USER_KIND, this.#deps.users], [CASDOOR_GROUP_KIND, this.#deps.groups]] as const) {
      const plan = this.#handEdits.plan(key, kind, stored.of(key), (saved) => desiredObject(kind, saved.metadata.name, saved.spec as unknown as DesiredObject['spec'], labels, owner));
      if (!plan) return this.#handEdits.unjudged(key);
      unknown += plan.unknown.length;
      if (plan.unknown.length > 0) logger.info({ kind, objects: plan.unknown.slice(0, 20), count: plan.unknown.length }, 'objects changed by hand with no version known to put back: a sync will');
      if (plan.create.length + plan.update.length === 0) continue;
      logger.info({ kind, recreated: plan.create.map((o) => o.name), restored: plan.update.map((o) => o.name) }, 'putting back objects changed by hand');
      await applyPlan({ ...plan, remove: [] }, { namespace, kind, writer: this.#deps.writer, removal: 'Keep', concurrency: 4, now: this.#now().toISOString(), signal });
    }
    return unknown > 0;
  }

  #failure(thrown: unknown): Extract<SyncOutcome, { kind: 'failed' }> {
    const connectFailure = thrown instanceof ConnectFailure;
    const error = connectFailure ? thrown.cause : thrown;
    if (error instanceof SecretProblem) {
      return { kind: 'failed', reason: error.reason, message: error.message, stalled: false, connected: 'unchanged' };
    }
    if (error instanceof OriginNotAllowed) {
      return { kind: 'failed', reason: error.reason, message: error.message, stalled: true, connected: 'unknown' };
    }
    if (error instanceof SpecProblem) {
      return { kind: 'failed', reason: error.reason, message: error.message, stalled: true, connected: 'unknown' };
    }
    if (isWeComError(error)) {
      const stalled = HUMAN_NEEDED.has(error.reason);
      const retry = stalled ? ' WeCom will not be called again until the Secret, the spec or a sync request changes.' : ' Retrying with backoff.';
      return { kind: 'failed', reason: error.reason, message: `${error.message.replace(/\.?$/, '.')}${retry}`, stalled, connected: !connectFailure };
    }
    const message = error instanceof Error ? error.message : String(error);
    return { kind: 'failed', reason: Reason.SyncFailed, message: `Sync failed: ${message}. Retrying with backoff.`, stalled: false, connected: 'unchanged' };
  }

  /** Records the final Ready condition as an Event, so `kubectl describe wcs` tells what the sync did. */
  async #recordEvent(syncer: WeComSyncer, outcome: SyncOutcome, status: WeComSyncerStatus): Promise<void> {
    const ready = findCondition(status.conditions, ConditionType.Ready);
    if (!ready) return;
    const normal = outcome.kind === 'suspended' || (outcome.kind === 'synced' && ready.status === 'True');
    await this.#deps.events.record(syncer, normal ? 'Normal' : 'Warning', ready.reason, ready.message);
  }
}

/** What a sync attempt read, for the reconcile that reports its failure. */
interface Attempt {
  /** The Secrets, once read: a stall on them keeps their digest. */
  credentials?: Credentials;
  /** The event path, once the callback Secrets were read. */
  callbackPath?: string;
  /** Members created while the fetch ran, when the fetch then failed. */
  createdBeforeFailure?: number;
}

/** A spec that passed the API server's validation but cannot be used; nothing improves until it changes. */
class SpecProblem extends Error {
  readonly reason: string;
  constructor(reason: string, message: string) {
    super(message);
    this.reason = reason;
  }
}

/** A failure of the connection test, as opposed to one later in the sync. */
class ConnectFailure extends Error {
  declare readonly cause: WeComError;
  constructor(cause: WeComError) {
    super(cause.message, { cause });
  }
}

/**
 * The connection test: a token AND a department listing, which a sync then uses. A token
 * alone does not catch an untrusted IP (60020), a narrow scope (60011) or a restricted contacts secret.
 */
async function connect(client: WeComClient, signal: AbortSignal): Promise<DepartmentListing> {
  try {
    return await client.listDepartments(signal);
  } catch (error) {
    throw isWeComError(error) ? new ConnectFailure(error) : error;
  }
}

function writes(plan: Plan): number {
  return plan.create.length + plan.update.length + plan.remove.length;
}
