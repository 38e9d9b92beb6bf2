import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  applyFaultPatch, noFaults, parseFaultPatch, takeScriptedFault,
  BodyFault, type FaultPatch, type Faults, type ScriptedFault,
} from './faults.ts';
import { generateOrg, isRecord, parseOrg, type GenerateOptions, type SimDepartment, type SimMember, type SimOrg } from './org.ts';
import { SimCorp, type Answer } from './wecom-api.ts';
import { changesBetween, deliver, type Delivery, type EventReceiver } from './events.ts';

/** What the simulator counts, for tests and the benchmark. */
export interface Counters {
  /** Calls per endpoint (`gettoken`, `user/list`, ...), whatever they answered. */
  calls: Record<string, number>;
  tokensIssued: number;
  inFlight: number;
  /** The highest number of API calls in flight at once. */
  maxInFlight: number;
  /** TCP connections accepted, whatever came over them (admin calls too). */
  connectionsAccepted: number;
}

/** How to start a simulator; every field optional. */
export interface SimulatorOptions {
  /** 0 (default) = any free port. */
  port?: number;
  /** Default 127.0.0.1: the admin endpoints have no authentication. */
  host?: string;
  corpId?: string;
  /** Default: random. */
  corpSecret?: string;
  /** Default: random. */
  contactsSecret?: string;
  /** Default 7200. */
  tokenLifetimeSeconds?: number;
  org?: SimOrg;
  /** Used when `org` is absent. */
  generate?: GenerateOptions;
  /** A JSON scenario: `{corpId?, corpSecret?, contactsSecret?, tokenLifetimeSeconds?, org? | generate?, faults?}`. */
  scenarioFile?: string;
  faults?: FaultPatch;
}

/** A change of the organization while the simulator runs. */
export interface OrgPatch {
  upsertMembers?: SimMember[];
  removeUserIds?: string[];
  upsertDepartments?: SimDepartment[];
  removeDepartmentIds?: number[];
}

/** A running simulator and the handles to drive it in-process. */
export interface Simulator {
  /** Base URL, to use as the API URL. */
  url: string;
  corpId: string;
  corpSecret: string;
  contactsSecret: string;
  /** The live organization; prefer {@link Simulator.setOrg} and {@link Simulator.patchOrg} to change it. */
  readonly org: SimOrg;
  /** The live faults: assign fields directly, or use {@link Simulator.setFaults}. */
  faults: Faults;
  /** Live counters. */
  counters: Counters;
  setFaults(patch: FaultPatch): void;
  resetFaults(): void;
  /** Makes every token issued so far die with 40014 or 42001. */
  killTokens(errcode?: 40014 | 42001): void;
  /** Every access token issued since start. */
  issuedTokens(): readonly string[];
  setOrg(org: SimOrg): void;
  /** Changes the organization; with an event receiver set, sends it the events WeCom would. */
  patchOrg(patch: OrgPatch): void;
  /** Where contact-change events go (undefined: nowhere, the default). */
  setEventReceiver(receiver: EventReceiver | undefined): void;
  /** Every event sent so far, once its delivery ended (delivered, or 3 attempts failed). */
  readonly deliveries: readonly Delivery[];
  /** Waits for the events being sent, and returns every delivery so far. */
  eventsDelivered(): Promise<readonly Delivery[]>;
  resetCounters(): void;
  close(): Promise<void>;
}

const ADMIN_PREFIX = '/__sim/';
const MAX_REQUEST_BYTES = 16 * 1024 * 1024;
const HTML_PAGE = '<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>';

/**
 * Starts a WeCom simulator on loopback: the contacts endpoints WeCom serves, with its
 * error conventions, plus admin endpoints under `/__sim/` so other processes can drive it.
 */
export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const scenario = options.scenarioFile ? await readScenario(options.scenarioFile) : {};
  const merged: SimulatorOptions = { ...scenario, ...options };
  const faults = noFaults();
  if (scenario.faults) applyFaultPatch(faults, scenario.faults);
  if (options.faults) applyFaultPatch(faults, options.faults);
  const corp = new SimCorp({
    corpId: merged.corpId ?? 'ww5100000000000001',
    corpSecret: merged.corpSecret ?? randomBytes(24).toString('base64url'),
    contactsSecret: merged.contactsSecret ?? randomBytes(24).toString('base64url'),
    org: merged.org ?? generateOrg(merged.generate ?? { members: 20, departments: 5 }),
    faults,
    tokenLifetimeSeconds: merged.tokenLifetimeSeconds ?? 7200,
  });
  const counters: Counters = { calls: {}, tokensIssued: 0, inFlight: 0, maxInFlight: 0, connectionsAccepted: 0 };
  let receiver: EventReceiver | undefined;
  const deliveries: Delivery[] = [];
  const sending = new Set<Promise<void>>();

  const sim: Simulator = {
    url: '',
    corpId: corp.corpId,
    corpSecret: corp.corpSecret,
    contactsSecret: corp.contactsSecret,
    get org() { return corp.org; },
    faults,
    counters,
    setFaults: (patch) => applyFaultPatch(faults, patch),
    resetFaults: () => Object.assign(faults, noFaults()),
    killTokens: (errcode = 40014) => corp.killTokens(errcode),
    issuedTokens: () => corp.issuedTokens,
    setOrg: (org) => { corp.org = org; },
    patchOrg: (patch) => {
      const before: SimOrg = { ...corp.org, members: [...corp.org.members], departments: [...corp.org.departments] };
      applyOrgPatch(corp.org, patch);
      if (!receiver) return;
      const sent: Promise<void> = deliver(receiver, corp.corpId, changesBetween(before, corp.org)).then((done) => {
        deliveries.push(...done);
        sending.delete(sent);
      });
      sending.add(sent);
    },
    setEventReceiver: (next) => { receiver = next; },
    deliveries,
    eventsDelivered: async () => {
      await Promise.all([...sending]);
      return deliveries;
    },
    resetCounters: () => Object.assign(counters, { calls: {}, tokensIssued: 0, maxInFlight: counters.inFlight, connectionsAccepted: 0 }),
    close: () => new Promise<void>((resolve, reject) => {
      server.close((error) => (error ? reject(error) : resolve()));
      server.closeAllConnections();
    }),
  };

  const handleApi = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    const endpoint = url.pathname.replace(/^\/cgi-bin\//, '');
    counters.calls[endpoint] = (counters.calls[endpoint] ?? 0) + 1;
    counters.inFlight++;
    counters.maxInFlight = Math.max(counters.maxInFlight, counters.inFlight);
    try {
      const body = req.method === 'POST' ? parseJson(await readBody(req)) : undefined;
      const callerIP = faults.callerIP ?? (req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, '');
      if (faults.maxConcurrent > 0 && counters.inFlight > faults.maxConcurrent) {
        return write(res, corp.errorAnswer(45033, callerIP));
      }
      if (faults.latencyMs > 0) await sleep(faults.latencyMs);
      const scripted = takeScriptedFault(faults, endpoint);
      const before = corp.tokensIssued;
      const answer = scripted?.errcode !== undefined
        ? corp.errorAnswer(scripted.errcode, callerIP)
        : corp.answer({ endpoint, query: url.searchParams, body, callerIP });
      counters.tokensIssued += corp.tokensIssued - before;
      write(res, scripted ? spoil(answer, scripted) : answer);
    } finally {
      counters.inFlight--;
    }
  };

  const handleAdmin = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    const route = `${req.method} ${url.pathname.slice(ADMIN_PREFIX.length)}`;
    const input = req.method === 'GET' ? undefined : parseJson(await readBody(req));
    switch (route) {
      case 'GET counters': return json(res, 200, counters);
      case 'POST counters/reset': sim.resetCounters(); return json(res, 200, counters);
      case 'GET faults': return json(res, 200, faults);
      case 'POST faults': sim.setFaults(parseFaultPatch(input)); return json(res, 200, faults);
      case 'POST faults/reset': sim.resetFaults(); return json(res, 200, faults);
      case 'POST tokens/kill': {
        const errcode = isRecord(input) && input['errcode'] === 42001 ? 42001 : 40014;
        sim.killTokens(errcode);
        return json(res, 200, { killedWith: errcode });
      }
      case 'GET org': return json(res, 200, corp.org);
      case 'PUT org': sim.setOrg(parseOrg(input)); return json(res, 200, summary(corp.org));
      case 'POST org': sim.patchOrg(parseOrgPatch(input)); return json(res, 200, summary(corp.org));
      default: return json(res, 404, { error: `no admin route ${route}` });
    }
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://simulator');
    const handler = url.pathname.startsWith(ADMIN_PREFIX) ? handleAdmin : handleApi;
    handler(req, res, url).catch((error: unknown) => {
      if (!res.headersSent) json(res, 400, { error: error instanceof Error ? error.message : String(error) });
      else res.destroy();
    });
  });
  server.on('connection', () => counters.connectionsAccepted++);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(merged.port ?? 0, merged.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  sim.url = `http://${host}:${address.port}`;
  return sim;
}

/** Applies a scripted fault's HTTP status or body spoiling to an answer. */
function spoil(answer: Answer, fault: ScriptedFault): Answer {
  const status = fault.httpStatus ?? answer.status;
  const kind = fault.body ?? (fault.httpStatus !== undefined ? BodyFault.Html : undefined);
  switch (kind) {
    case BodyFault.Html: return { status, contentType: 'text/html', body: HTML_PAGE };
    case BodyFault.Malformed: return { status, contentType: 'application/json', body: '{"errcode":0,"errmsg":"ok",userlist:[}' };
    case BodyFault.Truncated: return { status, contentType: 'application/json', body: answer.body.slice(0, Math.floor(answer.body.length / 2)) };
    case BodyFault.Empty: return { status, contentType: 'application/json', body: '' };
    default: return { ...answer, status };
  }
}

function applyOrgPatch(org: SimOrg, patch: OrgPatch): void {
  const removeUsers = new Set([...(patch.removeUserIds ?? []), ...(patch.upsertMembers ?? []).map((m) => m.userid)]);
  org.members = [...org.members.filter((m) => !removeUsers.has(m.userid)), ...(patch.upsertMembers ?? [])];
  const removeDepts = new Set([...(patch.removeDepartmentIds ?? []), ...(patch.upsertDepartments ?? []).map((d) => d.id)]);
  org.departments = [...org.departments.filter((d) => !removeDepts.has(d.id)), ...(patch.upsertDepartments ?? [])];
}

function parseOrgPatch(raw: unknown): OrgPatch {
  if (!isRecord(raw)) throw new Error('org patch: not an object');
  const parts = parseOrg({ departments: raw['upsertDepartments'] ?? [], members: raw['upsertMembers'] ?? [] });
  const removeUserIds = raw['removeUserIds'] ?? [];
  const removeDepartmentIds = raw['removeDepartmentIds'] ?? [];
  if (!Array.isArray(removeUserIds) || !removeUserIds.every((u) => typeof u === 'string')) throw new Error('org patch: removeUserIds must be strings');
  if (!Array.isArray(removeDepartmentIds) || !removeDepartmentIds.every(Number.isInteger)) throw new Error('org patch: removeDepartmentIds must be ids');
  return { upsertMembers: parts.members, upsertDepartments: parts.departments, removeUserIds, removeDepartmentIds };
}

async function readScenario(file: string): Promise<SimulatorOptions> {
  const raw: unknown = JSON.parse(await readFile(file, 'utf8'));
  if (!isRecord(raw)) throw new Error(`${file}: not a JSON object`);
  const scenario: SimulatorOptions = {};
  for (const key of ['corpId', 'corpSecret', 'contactsSecret'] as const) {
    const value = raw[key];
    if (typeof value === 'string') scenario[key] = value;
  }
  if (typeof raw['tokenLifetimeSeconds'] === 'number') scenario.tokenLifetimeSeconds = raw['tokenLifetimeSeconds'];
  if (raw['org'] !== undefined) scenario.org = parseOrg(raw['org']);
  const generate = raw['generate'];
  if (isRecord(generate) && typeof generate['members'] === 'number' && typeof generate['departments'] === 'number') {
    scenario.generate = { ...generate, members: generate['members'], departments: generate['departments'] };
  }
  if (raw['faults'] !== undefined) scenario.faults = parseFaultPatch(raw['faults']);
  return scenario;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_REQUEST_BYTES) req.destroy(new Error('request body too large'));
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error('request body is not JSON', { cause: error });
  }
}

function summary(org: SimOrg): { departments: number; members: number } {
  return { departments: org.departments.length, members: org.members.length };
}

function json(res: ServerResponse, status: number, value: unknown): void {
  write(res, { status, contentType: 'application/json', body: JSON.stringify(value) });
}

function write(res: ServerResponse, answer: Answer): void {
  res.writeHead(answer.status, { 'content-type': `${answer.contentType}; charset=utf-8` });
  res.end(answer.body);
}
