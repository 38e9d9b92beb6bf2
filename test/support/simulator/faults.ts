import { isRecord } from './org.ts';

/** How a scripted fault spoils an answer's body. */
export const BodyFault = {
  /** An HTML error page, as a gateway sends. */
  Html: 'html',
  /** Text that is not JSON at all. */
  Malformed: 'malformed',
  /** The real answer cut in half. */
  Truncated: 'truncated',
  Empty: 'empty',
} as const;
/** A value of {@link BodyFault}. */
export type BodyFault = (typeof BodyFault)[keyof typeof BodyFault];

/** A one-shot fault: the next `times` calls (to `endpoint`, or to any) answer this way. */
export interface ScriptedFault {
  /** e.g. `user/list`, `gettoken`; absent = any endpoint. */
  endpoint?: string;
  /** How many calls it spoils. Default 1. */
  times?: number;
  /** Answer HTTP 200 with this errcode. */
  errcode?: number;
  /** Answer with this HTTP status (with an HTML body unless `body` says otherwise). */
  httpStatus?: number;
  body?: BodyFault;
}

/** Everything that can go wrong, changeable while the simulator runs. */
export interface Faults {
  /** Added to every API call before it answers. */
  latencyMs: number;
  /** More calls in flight than this are answered 45033; 0 = no ceiling. */
  maxConcurrent: number;
  /** Until this time (epoch ms) every API call is answered 45009. */
  frequencyLimitedUntil: number;
  /** The 2022 privacy rules: no avatar, mobile, email, address, qr_code; gender "0". */
  privacyMode: boolean;
  /** Every call but gettoken is answered 60020. */
  untrustedIP: boolean;
  /**
   * The contacts secret calls from an IP trusted before 2022-08-15, so WeCom still lets it
   * read details. Off by default: like real WeCom for every IP added since (every new
   * deployment), the contacts secret gets 48009 on the detail APIs and may call only
   * user/list_id and department/simplelist.
   */
  contactsSecretTrustedBefore2022: boolean;
  /** user/list for these departments always answers -1. */
  failingDepartments: number[];
  /** Extra records appended to a department's user/list, of any shape. */
  hostileRecords: { departmentId: number; record: unknown }[];
  /** One-shot faults, used up in order. */
  script: ScriptedFault[];
  /** The IP named in `from ip:`; null = the caller's address. */
  callerIP: string | null;
}

/** A change of faults: any subset, plus `frequencyLimitMs` = a 45009 window starting now. */
export type FaultPatch = Partial<Faults> & { frequencyLimitMs?: number };

/** No faults at all. */
export function noFaults(): Faults {
  return {
    latencyMs: 0, maxConcurrent: 0, frequencyLimitedUntil: 0, privacyMode: false, untrustedIP: false,
    contactsSecretTrustedBefore2022: false, failingDepartments: [], hostileRecords: [], script: [], callerIP: null,
  };
}

/** Applies a patch in place. */
export function applyFaultPatch(faults: Faults, patch: FaultPatch, now = Date.now()): void {
  const { frequencyLimitMs, ...rest } = patch;
  Object.assign(faults, rest);
  if (frequencyLimitMs !== undefined) faults.frequencyLimitedUntil = now + frequencyLimitMs;
}

const NUMBER_KEYS = ['latencyMs', 'maxConcurrent', 'frequencyLimitedUntil', 'frequencyLimitMs'] as const;
const BOOLEAN_KEYS = ['privacyMode', 'untrustedIP', 'contactsSecretTrustedBefore2022'] as const;
const BODY_FAULTS: readonly unknown[] = Object.values(BodyFault);

/** Narrows JSON (from the admin endpoint or a scenario file) to a fault patch, or throws. */
export function parseFaultPatch(raw: unknown): FaultPatch {
  if (!isRecord(raw)) throw new Error('faults: not an object');
  const patch: FaultPatch = {};
  for (const key of Object.keys(raw)) {
    const value = raw[key];
    if ((NUMBER_KEYS as readonly string[]).includes(key)) {
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new Error(`faults.${key}: not a number >= 0`);
      patch[key as (typeof NUMBER_KEYS)[number]] = value;
    } else if ((BOOLEAN_KEYS as readonly string[]).includes(key)) {
      if (typeof value !== 'boolean') throw new Error(`faults.${key}: not a boolean`);
      patch[key as (typeof BOOLEAN_KEYS)[number]] = value;
    } else if (key === 'failingDepartments') {
      if (!Array.isArray(value) || !value.every(Number.isInteger)) throw new Error('faults.failingDepartments: not a list of ids');
      patch.failingDepartments = value as number[];
    } else if (key === 'hostileRecords') {
      if (!Array.isArray(value) || !value.every((h) => isRecord(h) && Number.isInteger(h['departmentId']))) {
        throw new Error('faults.hostileRecords: entries need a departmentId');
      }
      patch.hostileRecords = value.map((h: Record<string, unknown>) => ({ departmentId: Number(h['departmentId']), record: h['record'] }));
    } else if (key === 'script') {
      if (!Array.isArray(value)) throw new Error('faults.script: not a list');
      patch.script = value.map(parseScriptedFault);
    } else if (key === 'callerIP') {
      if (value !== null && typeof value !== 'string') throw new Error('faults.callerIP: not a string');
      patch.callerIP = value;
    } else {
      throw new Error(`faults: unknown key ${key}`);
    }
  }
  return patch;
}

function parseScriptedFault(raw: unknown): ScriptedFault {
  if (!isRecord(raw)) throw new Error('faults.script: entry is not an object');
  const fault: ScriptedFault = {};
  const { endpoint, times, errcode, httpStatus, body } = raw;
  if (typeof endpoint === 'string') fault.endpoint = endpoint;
  if (Number.isInteger(times)) fault.times = Number(times);
  if (Number.isInteger(errcode)) fault.errcode = Number(errcode);
  if (Number.isInteger(httpStatus)) fault.httpStatus = Number(httpStatus);
  if (body !== undefined) {
    if (!BODY_FAULTS.includes(body)) throw new Error(`faults.script: body must be one of ${BODY_FAULTS.join(', ')}`);
    fault.body = body as BodyFault;
  }
  return fault;
}

/** Takes the first scripted fault for this endpoint, counting down its uses. */
export function takeScriptedFault(faults: Faults, endpoint: string): ScriptedFault | undefined {
  const index = faults.script.findIndex((f) => f.endpoint === undefined || f.endpoint === endpoint);
  const fault = faults.script[index];
  if (!fault) return undefined;
  const left = (fault.times ?? 1) - 1;
  if (left <= 0) faults.script.splice(index, 1);
  else fault.times = left;
  return fault;
}
