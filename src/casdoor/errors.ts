/**
 * Why a Casdoor call failed, as a Kubernetes condition reason: one value per
 * thing a person (or the retry loop) would do differently.
 */
export const CasdoorErrorReason = {
  /** The client credentials are wrong: Casdoor took the caller for anonymous. */
  InvalidCredentials: 'InvalidCredentials',
  /** An organization the server was told to write does not exist in Casdoor. */
  OrganizationNotFound: 'OrganizationNotFound',
  /** No answer, a timeout, HTTP 5xx, or `database is locked` after the retries. */
  Unreachable: 'Unreachable',
  /** An answer that is not Casdoor's JSON envelope (an HTML page, a proxy's error, a cut body). */
  BadResponse: 'BadResponse',
  /** Casdoor will not take this object: its message says why (a name, a phone, a duplicate). */
  Refused: 'Refused',
} as const;
/** A value of {@link CasdoorErrorReason}. */
export type CasdoorErrorReason = (typeof CasdoorErrorReason)[keyof typeof CasdoorErrorReason];

/** A failed Casdoor call. Its message never holds a credential. */
export class CasdoorError extends Error {
  readonly reason: CasdoorErrorReason;
  /** The endpoint called, e.g. `add-user`. */
  readonly endpoint: string;
  /** Casdoor's own `msg`, when it answered with one. */
  readonly casdoorMessage: string | undefined;
  /** A retry may succeed (network, 5xx, HTML, `database is locked`). */
  readonly transient: boolean;

  constructor(reason: CasdoorErrorReason, endpoint: string, message: string, options: { casdoorMessage?: string; transient?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CasdoorError';
    this.reason = reason;
    this.endpoint = endpoint;
    this.casdoorMessage = options.casdoorMessage;
    this.transient = options.transient ?? false;
  }
}

/** Narrows an unknown error to a {@link CasdoorError}. */
export function isCasdoorError(error: unknown): error is CasdoorError {
  return error instanceof CasdoorError;
}

/**
 * The error for an `{status: "error"}` answer. Casdoor gives no codes, so the
 * few messages that change what the caller does are matched (it is asked for
 * English); anything else about the object is a refusal, with Casdoor's words.
 */
export function errorFromEnvelope(endpoint: string, msg: string): CasdoorError {
  if (/^Unauthorized operation/i.test(msg) || /^Please login first/i.test(msg)) {
    return new CasdoorError(CasdoorErrorReason.InvalidCredentials, endpoint,
      `Casdoor answered ${endpoint} as to an anonymous caller ("${msg}"): the client ID or secret is wrong, or the application is gone`,
      { casdoorMessage: msg });
  }
  if (/database is locked/i.test(msg)) {
    return new CasdoorError(CasdoorErrorReason.Unreachable, endpoint, `Casdoor's database is locked (${endpoint})`, { casdoorMessage: msg, transient: true });
  }
  const organization = /^The organization: (.+) does not exist$/.exec(msg);
  if (organization) {
    return new CasdoorError(CasdoorErrorReason.OrganizationNotFound, endpoint, `organization ${organization[1]} does not exist in Casdoor`, { casdoorMessage: msg });
  }
  return new CasdoorError(CasdoorErrorReason.Refused, endpoint, `Casdoor refused ${endpoint}: ${msg}`, { casdoorMessage: msg });
}
