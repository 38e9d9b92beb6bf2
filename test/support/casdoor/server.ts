// A stand-in Casdoor over real HTTP, for tests, the demo and the benchmark: the
// /api endpoints a machine client uses, Casdoor's envelope (errors as HTTP 200),
// client credentials as HTTP Basic (a wrong secret is silently anonymous), the
// session cookie, the columns merge of update-user, paging quirks, the name,
// phone and uniqueness rules, and faults on demand. Its fidelity to a real
// Casdoor v3.158.0 is checked by casdoor-fidelity.test.ts against the transcript.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { type Application, type Caller, CasdoorStore, Refusal, type Row } from './store.ts';

/** A one-shot fault: the next `times` calls (to `endpoint`, or to any) answer this way. */
export interface CasdoorFault {
  /** e.g. `add-user`; absent = any endpoint. */
  endpoint?: string;
  /** Only calls whose body or query names this user or group. */
  name?: string;
  /** How many calls it spoils. Default 1. */
  times?: number;
  /** Answer with this HTTP status and an HTML page. */
  httpStatus?: number;
  /** Answer HTTP 200 with an HTML page (a proxy's, a login page). */
  html?: boolean;
  /** Answer `{status: "error", msg}`: e.g. `database is locked`. */
  msg?: string;
  /** Close the connection without an answer. */
  hangUp?: boolean;
}

/** Live counters. */
export interface CasdoorCounters {
  /** Calls per endpoint (`add-user`, `get-users`, ...), whatever they answered. */
  calls: Record<string, number>;
  /** add-, update- and delete- calls that Casdoor carried out (answered ok). */
  writes: number;
  /** Sessions created: a client that sends its cookie back creates one. */
  sessionsCreated: number;
  connectionsAccepted: number;
}

/** A running stand-in. */
export interface CasdoorStandIn {
  url: string;
  store: CasdoorStore;
  /** The application whose credentials the tests give the operator (of the first organization). */
  app: Application;
  counters: CasdoorCounters;
  /** Every client secret the stand-in knows, for the scans that prove none leaked. */
  secrets(): string[];
  /** Queues one-shot faults. */
  fail(...faults: CasdoorFault[]): void;
  /** Added to every API call before it answers. */
  latencyMs: number;
  /** Casdoor down (true: open connections closed, new ones closed at once) or back up. */
  setDown(down: boolean): void;
  resetCounters(): void;
  close(): Promise<void>;
}

/** How to start the stand-in. */
export interface CasdoorStandInOptions {
  port?: number;
  /** Organizations created up front, each with an application (Casdoor needs one to add users). Default `['acme']`. */
  organizations?: string[];
}

const HTML_404 = '<!DOCTYPE html>\n<html lang="en">\n\t<head>\n\t\t<meta http-equiv="Content-Type" content="text/html; charset=UTF-8">\n\t\t<title>Not Found</title>\n\t</head>\n\t<body><h1>404</h1></body>\n</html>\n';
const HTML_GATEWAY = '<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>';
const SESSION_COOKIE = 'casdoor_session_id';
/** Endpoints anonymous callers may use; the others answer "Unauthorized operation" (get-user: "Please login first"). */
const ANONYMOUS_ENDPOINTS = new Set(['health', 'get-application', 'get-organization']);

/** Starts the stand-in on loopback. */
export async function startCasdoor(options: CasdoorStandInOptions = {}): Promise<CasdoorStandIn> {
  const store = new CasdoorStore();
  const apps = (options.organizations ?? ['acme']).map((organization) => store.createOrganization(organization));
  const counters: CasdoorCounters = { calls: {}, writes: 0, sessionsCreated: 0, connectionsAccepted: 0 };
  const sessions = new Set<string>();
  let faults: CasdoorFault[] = [];
  const sockets = new Set<Socket>();
  let down = false;

  const standIn: CasdoorStandIn = {
    url: '',
    store,
    app: apps[0] ?? store.applications.get('app-built-in')!,
    counters,
    secrets: () => [...store.applications.values()].map((a) => a.clientSecret),
    fail: (...more) => void faults.push(...more.map((f) => ({ times: 1, ...f }))),
    latencyMs: 0,
    setDown: (value) => {
      down = value;
      if (value) for (const socket of sockets) socket.destroy();
    },
    resetCounters: () => Object.assign(counters, { calls: {}, writes: 0, sessionsCreated: 0, connectionsAccepted: 0 }),
    close: () => new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    }),
  };

  /** Who is calling: HTTP Basic credentials, or clientId/clientSecret in the query (which name the problem). */
  const callerOf = (req: IncomingMessage, query: URLSearchParams): Caller | Refusal => {
    const queryId = query.get('clientId');
    if (queryId !== null) {
      const app = store.appByClientId(queryId);
      if (!app) return new Refusal(`Application not found for client ID: ${queryId}`);
      if (app.clientSecret !== query.get('clientSecret')) return new Refusal(`Incorrect client secret for application: ${app.name}`);
      return { app };
    }
    const authorization = req.headers.authorization ?? '';
    if (authorization.startsWith('Bearer ')) return new Refusal("Access token doesn't exist in database");
    if (!authorization.startsWith('Basic ')) return { anonymous: true };
    const [id, ...rest] = Buffer.from(authorization.slice(6), 'base64').toString('utf8').split(':');
    const app = store.appByClientId(id ?? '');
    // A wrong secret is no error in Casdoor: the caller is simply anonymous.
    return app && app.clientSecret === rest.join(':') ? { app } : { anonymous: true };
  };

  const route = (method: string, endpoint: string, query: URLSearchParams, body: unknown, caller: Caller): { data: unknown; data2?: unknown } | undefined => {
    const id = query.get('id') ?? '';
    const anonymous = 'anonymous' in caller;
    if (anonymous && !ANONYMOUS_ENDPOINTS.has(endpoint)) throw new Refusal(endpoint === 'get-user' ? 'Please login first' : 'Unauthorized operation');
    const write = (data: unknown): { data: unknown } => {
      counters.writes++;
      return { data };
    };
    switch (`${method} ${endpoint}`) {
      case 'GET health': return { data: null };
      case 'GET get-organization': return { data: store.organizations.get(id.split('/')[1] ?? '') ?? null };
      case 'GET get-organizations': return { data: [...store.organizations.values()] };
      case 'GET get-application': {
        const app = store.applications.get(id.split('/')[1] ?? '');
        if (!app) return { data: null };
        return { data: { owner: 'admin', name: app.name, organization: app.organization, clientId: app.clientId, clientSecret: anonymous ? '***' : app.clientSecret } };
      }
      case 'GET get-users': {
        const users = store.usersOf(query.get('owner') ?? '');
        const page = Number(query.get('p'));
        const size = Number(query.get('pageSize'));
        // Paged only when both are sent; a page past the end is the last page again.
        if (!query.has('p') || !query.has('pageSize') || !(page > 0) || !(size > 0)) return { data: users };
        const last = Math.max(1, Math.ceil(users.length / size));
        const start = (Math.min(page, last) - 1) * size;
        return { data: users.slice(start, start + size), data2: users.length };
      }
      case 'GET get-user': return { data: store.getUser(id || { owner: query.get('owner') ?? '', userId: query.get('userId') ?? '' }) };
      case 'GET get-groups': return { data: store.groupsOf(query.get('owner') ?? '', query.get('withTree') === 'true') };
      case 'GET get-group': return { data: store.getGroup(id) };
      case 'POST add-organization': store.addOrganization(body as Row); return write('Affected');
      case 'POST add-application': store.addApplication(body as Row); return write('Affected');
      case 'POST add-user': store.addUser(body); return write('Affected');
      case 'POST update-user': {
        const columns = query.get('columns');
        return write(store.updateUser(id, body, columns === null || columns === '' ? undefined : columns.split(',')));
      }
      case 'POST delete-user': return write(store.deleteUser(body));
      case 'POST add-group': store.addGroup(body); return write('Affected');
      case 'POST update-group': return write(store.updateGroup(id, body));
      case 'POST delete-group': return write(store.deleteGroup(body));
      default: return undefined;
    }
  };

  const takeFault = (endpoint: string, query: URLSearchParams, body: unknown): CasdoorFault | undefined => {
    const index = faults.findIndex((f) => (!f.endpoint || f.endpoint === endpoint) && (!f.name || mentions(f.name, query, body)));
    if (index < 0) return undefined;
    const fault = faults[index]!;
    fault.times = (fault.times ?? 1) - 1;
    if (fault.times <= 0) faults = faults.filter((_, i) => i !== index);
    return fault;
  };

  const server = createServer((req, res) => {
    void handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) send(res, 500, 'text/plain', error instanceof Error ? error.message : String(error));
      else res.destroy();
    });
  });
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://casdoor');
    const raw = await readBody(req);
    if (standIn.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, standIn.latencyMs));
    // Every answer carries the session cookie; a request without a known one starts a new session.
    const sent = /(?:^|;\s*)casdoor_session_id=([^;]+)/.exec(req.headers.cookie ?? '')?.[1];
    let session = sent !== undefined && sessions.has(sent) ? sent : undefined;
    if (!session) {
      session = randomBytes(16).toString('hex');
      sessions.add(session);
      counters.sessionsCreated++;
    }
    res.setHeader('Set-Cookie', `${SESSION_COOKIE}=${session}; Path=/; Max-Age=2592000; HttpOnly`);
    if (!url.pathname.startsWith('/api/')) return send(res, 404, 'text/html; charset=utf-8', HTML_404);
    const endpoint = url.pathname.slice('/api/'.length);
    counters.calls[endpoint] = (counters.calls[endpoint] ?? 0) + 1;
    let body: unknown;
    if (raw !== '') {
      try {
        body = JSON.parse(raw);
      } catch {
        return envelope(res, { status: 'error', msg: 'invalid character in JSON body' });
      }
    }
    const fault = takeFault(endpoint, url.searchParams, body);
    if (fault?.hangUp) return void req.socket.destroy();
    if (fault?.httpStatus) return send(res, fault.httpStatus, 'text/html', HTML_GATEWAY);
    if (fault?.html) return send(res, 200, 'text/html', HTML_GATEWAY);
    if (fault?.msg) return envelope(res, { status: 'error', msg: fault.msg });
    const caller = callerOf(req, url.searchParams);
    if (caller instanceof Refusal) return envelope(res, { status: 'error', msg: caller.message });
    try {
      const answer = route(req.method ?? 'GET', endpoint, url.searchParams, body, caller);
      if (!answer) return send(res, 404, 'text/html; charset=utf-8', HTML_404);
      return envelope(res, { status: 'ok', msg: '', data: answer.data, data2: answer.data2 ?? null });
    } catch (error) {
      if (error instanceof Refusal) return envelope(res, { status: 'error', msg: error.message });
      throw error;
    }
  };

  server.on('connection', (socket) => {
    counters.connectionsAccepted++;
    if (down) return void socket.destroy();
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  standIn.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return standIn;
}

function mentions(name: string, query: URLSearchParams, body: unknown): boolean {
  if (query.get('id')?.endsWith(`/${name}`)) return true;
  return typeof body === 'object' && body !== null && (body as Row)['name'] === name;
}

function envelope(res: ServerResponse, body: { status: 'ok' | 'error'; msg: string; data?: unknown; data2?: unknown }): void {
  send(res, 200, 'application/json; charset=utf-8', JSON.stringify({ status: body.status, msg: body.msg, sub: '', name: '', data: body.data ?? null, data2: body.data2 ?? null, data3: null }));
}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'Content-Type': contentType });
  res.end(body);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
