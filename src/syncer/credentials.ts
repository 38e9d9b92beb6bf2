import { Reason } from '../api/conditions.ts';
import { ANNOTATION_SYNC_REQUESTED_AT } from '../api/group.ts';
import type { WeComSyncer } from '../api/wecom-syncer.ts';
import { assertSecretMayGo, WECOM_API_ORIGIN } from '../secrets/origins.ts';
import type { SecretKey, SecretReader } from '../secrets/reader.ts';

/** The Secrets a WeComSyncer sends: its corp secret, and its contacts secret when it names one. */
export interface Credentials {
  corp: SecretKey;
  contacts?: SecretKey;
}

/** Reads the Secret keys a syncer's spec names. Throws SecretProblem for a missing or unusable one. */
export async function readCredentials(read: SecretReader, syncer: WeComSyncer): Promise<Credentials> {
  const namespace = syncer.metadata.namespace ?? 'default';
  const corp = await read(namespace, syncer.spec.corpSecretRef);
  const contacts = syncer.spec.contactsSecretRef ? await read(namespace, syncer.spec.contactsSecretRef) : undefined;
  return { corp, ...(contacts && { contacts }) };
}

/**
 * Throws OriginNotAllowed unless both Secrets may go to the spec's apiURL:
 * WeCom's own API, or an origin each Secret's allowed-urls lists. Called
 * before a client exists, so a refused origin receives no connection at all.
 */
export function assertCredentialsMayGo(syncer: WeComSyncer, credentials: Credentials): void {
  const namespace = syncer.metadata.namespace ?? 'default';
  for (const [ref, secret] of [[syncer.spec.corpSecretRef, credentials.corp], [syncer.spec.contactsSecretRef, credentials.contacts]] as const) {
    if (ref && secret) assertSecretMayGo({ namespace, secret: ref.name, annotation: secret.allowedURLs, url: syncer.spec.apiURL, builtIn: [WECOM_API_ORIGIN] });
  }
}

/**
 * What a stall on these credentials for `reason` depends on: the values, the
 * generation and the sync request, and for URLNotAllowed where the Secrets may
 * go. Only these changing may call WeCom again, so an annotation edited on a
 * Secret WeCom refused does not send the refused value once more.
 */
export function stallInputs(syncer: WeComSyncer, credentials: Credentials, reason: string): (string | undefined)[] {
  const inputs = [syncer.metadata.generation?.toString(), syncer.metadata.annotations?.[ANNOTATION_SYNC_REQUESTED_AT], credentials.corp.value];
  if (credentials.contacts) inputs.push(credentials.contacts.value);
  if (reason === Reason.URLNotAllowed) inputs.push(credentials.corp.allowedURLs, credentials.contacts?.allowedURLs);
  return inputs;
}
