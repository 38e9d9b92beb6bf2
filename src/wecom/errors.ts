/**
 * Why a WeCom call failed, as a Kubernetes condition reason. One value per
 * thing a person (or the retry loop) would do differently.
 */
export const WeComErrorReason = {
  InvalidCorpID: 'InvalidCorpID',
  InvalidSecret: 'InvalidSecret',
  IPNotAllowed: 'IPNotAllowed',
  OutOfScope: 'OutOfScope',
  SecretNotAllowed: 'SecretNotAllowed',
  ContactsSecretRestricted: 'ContactsSecretRestricted',
  RateLimited: 'RateLimited',
  ConcurrencyLimited: 'ConcurrencyLimited',
  Busy: 'Busy',
  TokenRejected: 'TokenRejected',
  ResponseTooLarge: 'ResponseTooLarge',
  MemberNotFound: 'MemberNotFound',
  DepartmentNotFound: 'DepartmentNotFound',
  MissingParameter: 'MissingParameter',
  Unreachable: 'Unreachable',
  BadResponse: 'BadResponse',
  APIError: 'APIError',
} as const;
/** A value of {@link WeComErrorReason}. */
export type WeComErrorReason = (typeof WeComErrorReason)[keyof typeof WeComErrorReason];

/** The errcodes the client treats specially; see the facts file for their meaning. */
export const Errcode = {
  Busy: -1,
  InvalidSecret: 40001,
  InvalidCorpID: 40013,
  InvalidToken: 40014,
  TokenMissing: 41001,
  CorpIDMissing: 41002,
  SecretMissing: 41004,
  TokenExpired: 42001,
  FrequencyLimit: 45009,
  ResponseTooLarge: 45029,
  ConcurrencyLimit: 45033,
  APIForbidden: 48002,
  ContactsSecretNewIP: 48009,
  OutOfScope: 60011,
  IPNotAllowed: 60020,
  DepartmentNotFound: 60003,
  MemberNotFound: 60111,
  DepartmentInvalid: 60123,
} as const;

const RETRYABLE: ReadonlySet<WeComErrorReason> = new Set([
  WeComErrorReason.RateLimited,
  WeComErrorReason.ConcurrencyLimited,
  WeComErrorReason.Busy,
  WeComErrorReason.Unreachable,
]);

/** Options of a {@link WeComError} beyond its reason and sentence. */
export interface WeComErrorOptions {
  /** WeCom's errcode, when WeCom answered with one. */
  errcode?: number;
  /** The HTTP status, when the failure was at the HTTP level. */
  httpStatus?: number;
  /** Overrides the reason's default: e.g. a body that is not JSON may be retried. */
  retryable?: boolean;
  /** A sanitised cause: never an axios error, which carries the URL with the token. */
  cause?: Error;
}

/**
 * A failed WeCom call. `reason` and `errcode` are for branching and for conditions;
 * `message` is a sentence a person can act on. Never holds a secret or an access token.
 */
export class WeComError extends Error {
  /** The condition reason. */
  readonly reason: WeComErrorReason;
  /** WeCom's errcode, when there was one. */
  readonly errcode: number | undefined;
  /** The HTTP status, for failures below WeCom's JSON answer. */
  readonly httpStatus: number | undefined;
  /** Whether trying again later (with backoff) may succeed. */
  readonly retryable: boolean;

  constructor(reason: WeComErrorReason, message: string, options: WeComErrorOptions = {}) {
    super(message, options.cause ? { cause: options.cause } : undefined);
    this.name = 'WeComError';
    this.reason = reason;
    this.errcode = options.errcode;
    this.httpStatus = options.httpStatus;
    this.retryable = options.retryable ?? RETRYABLE.has(reason);
  }

  /** Whether a new access token should be fetched and the call retried once. */
  get tokenRejected(): boolean {
    return this.reason === WeComErrorReason.TokenRejected;
  }
}

/** Narrows an unknown thrown value to a {@link WeComError}. */
export function isWeComError(value: unknown): value is WeComError {
  return value instanceof WeComError;
}

/** The caller's IP that WeCom reports in an errmsg (`from ip: 1.2.3.4`), if any. */
export function callerIPFromErrmsg(errmsg: string): string | undefined {
  const match = /from ip:\s*([0-9a-fA-F.:]+)/.exec(errmsg);
  return match?.[1];
}

/**
 * The error for a WeCom answer with a non-zero errcode. `api` names the endpoint
 * (no query string); `errmsg` must already be scrubbed of secrets.
 */
export function errorFromErrcode(errcode: number, errmsg: string, api: string): WeComError {
  const opts = { errcode };
  const code = `errcode ${errcode}`;
  switch (errcode) {
    case Errcode.InvalidCorpID:
      return new WeComError(WeComErrorReason.InvalidCorpID,
        `WeCom rejected the corp ID (${code}): check spec.corpId against the corp ID shown in the WeCom admin console`, opts);
    case Errcode.InvalidSecret:
      return new WeComError(WeComErrorReason.InvalidSecret,
        `WeCom rejected the secret (${code}): it is wrong, was reset, or the app is disabled; put the app's current secret in the Secret (not retried: repeated attempts get the caller's IP banned)`, opts);
    case Errcode.IPNotAllowed: {
      const ip = callerIPFromErrmsg(errmsg);
      const what = ip ? `add ${ip} to the app's trusted IPs` : "add this operator's outgoing IP to the app's trusted IPs";
      return new WeComError(WeComErrorReason.IPNotAllowed,
        `WeCom refused calls from ${ip ?? 'this IP'} (${code}): ${what} in the WeCom admin console`, opts);
    }
    case Errcode.OutOfScope:
      return new WeComError(WeComErrorReason.OutOfScope,
        `${api} is outside the app's visible scope (${code}): widen the app's visible scope in the WeCom admin console`, opts);
    case Errcode.APIForbidden:
      return new WeComError(WeComErrorReason.SecretNotAllowed,
        `this secret may not call ${api} (${code}): use the other secret (app versus Sync of Contacts)`, opts);
    case Errcode.ContactsSecretNewIP:
      return new WeComError(WeComErrorReason.ContactsSecretRestricted,
        `the Sync of Contacts secret may not call ${api} from a newly added IP (${code}): use the app secret for member details`, opts);
    case Errcode.FrequencyLimit:
      return new WeComError(WeComErrorReason.RateLimited,
        `WeCom's frequency limit was hit on ${api} (${code}): the block lasts a minute or an hour; calls are retried later`, opts);
    case Errcode.ConcurrencyLimit:
      return new WeComError(WeComErrorReason.ConcurrencyLimited,
        `WeCom refused too many concurrent calls on ${api} (${code}): lower the fetch concurrency`, opts);
    case Errcode.Busy:
      return new WeComError(WeComErrorReason.Busy, `WeCom is busy (${code}) on ${api}: retried later`, opts);
    case Errcode.InvalidToken:
    case Errcode.TokenExpired:
      return new WeComError(WeComErrorReason.TokenRejected,
        `WeCom rejected the access token on ${api} (${code}) even after a renewal`, opts);
    case Errcode.ResponseTooLarge:
      return new WeComError(WeComErrorReason.ResponseTooLarge, `WeCom's answer for ${api} would be too large (${code})`, opts);
    case Errcode.MemberNotFound:
      return new WeComError(WeComErrorReason.MemberNotFound, `${api}: no such member (${code})`, opts);
    case Errcode.DepartmentNotFound:
    case Errcode.DepartmentInvalid:
      return new WeComError(WeComErrorReason.DepartmentNotFound, `${api}: no such department (${code})`, opts);
    case Errcode.TokenMissing:
    case Errcode.CorpIDMissing:
    case Errcode.SecretMissing:
      return new WeComError(WeComErrorReason.MissingParameter,
        `${api}: a required parameter is missing (${code}): check spec.corpId and the Secret's key are not empty`, opts);
    default:
      return new WeComError(WeComErrorReason.APIError, `${api} failed with ${code}: ${briefErrmsg(errmsg)}`, opts);
  }
}

/** WeCom's errmsg without its `, hint: [...] ...` tail, bounded in length. */
function briefErrmsg(errmsg: string): string {
  const cut = errmsg.indexOf(', hint:');
  const brief = cut >= 0 ? errmsg.slice(0, cut) : errmsg;
  return brief.length > 200 ? `${brief.slice(0, 200)}…` : brief;
}
