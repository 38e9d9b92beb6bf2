import { readFileSync } from 'node:fs';
import { ApiException, CoordinationV1Api, type KubeConfig, type V1Lease, type V1LeaseSpec, V1MicroTime } from '@kubernetes/client-node';
import { LeaseConflictError, type LeaseRecord, type LeaseStore, type StoredLease } from './leader-election.ts';

/** Where a pod finds its own namespace. */
export const SERVICE_ACCOUNT_NAMESPACE_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

const HTTP_NOT_FOUND = 404;
const HTTP_CONFLICT = 409;

/** The coordination.k8s.io/v1 Lease `namespace/name` on the API server, as a {@link LeaseStore}. */
export function kubeLeaseStore(kc: KubeConfig, namespace: string, name: string): LeaseStore {
  const api = kc.makeApiClient(CoordinationV1Api);
  const where = `Lease ${namespace}/${name}`;
  return {
    async read() {
      try {
        return toStored(await api.readNamespacedLease({ name, namespace }), where);
      } catch (err) {
        if (err instanceof ApiException && err.code === HTTP_NOT_FOUND) return undefined;
        throw classify(err, `read ${where}`);
      }
    },
    async create(record) {
      try {
        return toStored(await api.createNamespacedLease({ namespace, body: { metadata: { name, namespace }, spec: toSpec(record) } }), where);
      } catch (err) {
        throw classify(err, `create ${where}`);
      }
    },
    async replace(record, resourceVersion) {
      try {
        const body: V1Lease = { metadata: { name, namespace, resourceVersion }, spec: toSpec(record) };
        return toStored(await api.replaceNamespacedLease({ name, namespace, body }), where);
      } catch (err) {
        throw classify(err, `update ${where}`);
      }
    },
  };
}

/**
 * The namespace to hold the Lease in: the flag, else `POD_NAMESPACE`, else the pod's own namespace from its
 * service account; undefined outside a cluster with neither set.
 */
export function leaseNamespace(
  flag: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
  serviceAccountFile = SERVICE_ACCOUNT_NAMESPACE_FILE,
): string | undefined {
  if (flag) return flag;
  if (env.POD_NAMESPACE) return env.POD_NAMESPACE;
  try {
    return readFileSync(serviceAccountFile, 'utf8').trim() || undefined;
  } catch {
    // Not in a pod (or no service account mounted): the caller asks for the flag.
    return undefined;
  }
}

function toSpec(record: LeaseRecord): V1LeaseSpec {
  // V1MicroTime prints six fractional digits; the API server rejects a MicroTime with the three of a plain Date.
  const micro = (date: Date | undefined): V1MicroTime | undefined => (date ? new V1MicroTime(date.getTime()) : undefined);
  return {
    ...(record.holderIdentity && { holderIdentity: record.holderIdentity }),
    ...(record.leaseDurationSeconds !== undefined && { leaseDurationSeconds: record.leaseDurationSeconds }),
    ...(record.acquireTime && { acquireTime: micro(record.acquireTime) }),
    ...(record.renewTime && { renewTime: micro(record.renewTime) }),
    ...(record.leaseTransitions !== undefined && { leaseTransitions: record.leaseTransitions }),
  };
}

function toStored(lease: V1Lease, where: string): StoredLease {
  const resourceVersion = lease.metadata?.resourceVersion;
  if (!resourceVersion) throw new Error(`${where} came back without a resourceVersion`);
  const spec = lease.spec ?? {};
  // Typed as Date, but client-node hands MicroTime fields over as the API server's strings; new Date() takes both.
  const time = (value: Date | undefined): Date | undefined => (value === undefined ? undefined : new Date(value));
  return {
    resourceVersion,
    record: {
      ...(spec.holderIdentity && { holderIdentity: spec.holderIdentity }),
      ...(spec.leaseDurationSeconds !== undefined && { leaseDurationSeconds: spec.leaseDurationSeconds }),
      ...(spec.acquireTime !== undefined && { acquireTime: time(spec.acquireTime) }),
      ...(spec.renewTime !== undefined && { renewTime: time(spec.renewTime) }),
      ...(spec.leaseTransitions !== undefined && { leaseTransitions: spec.leaseTransitions }),
    },
  };
}

/** Wraps a client-node error, turning 409 into {@link LeaseConflictError} so that election can tell a lost race. */
function classify(err: unknown, what: string): Error {
  if (err instanceof ApiException && err.code === HTTP_CONFLICT) return new LeaseConflictError(`${what}: conflict`, { cause: err });
  const message = err instanceof ApiException ? `HTTP ${err.code}${statusMessage(err.body)}` : err instanceof Error ? err.message : String(err);
  return new Error(`${what} failed: ${message}`, { cause: err });
}

/** The API server's own sentence from a Status body (e.g. which RBAC rule is missing), as `: sentence`. */
function statusMessage(body: unknown): string {
  let status: unknown = body;
  if (typeof body === 'string') {
    try {
      status = JSON.parse(body);
    } catch {
      // Not JSON (a proxy's HTML page, say): the status code alone has to do.
      return '';
    }
  }
  if (typeof status === 'object' && status !== null && 'message' in status && typeof status.message === 'string') return `: ${status.message}`;
  return '';
}
