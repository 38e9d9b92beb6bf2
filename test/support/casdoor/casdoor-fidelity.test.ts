// The stand-in Casdoor against a real one: replays, in order, the requests of
// api-transcript.jsonl beside this file (121 exchanges recorded with a real Casdoor
// v3.158.0, secrets redacted; a copy of the team's shared/reference/casdoor/) and compares each answer's HTTP status, envelope status, message
// and the meaning of its data (null, "Affected", a list of how many, the user's
// fields, the total). Exchanges about what the operator never uses (password
// sign-in, OAuth tokens, access keys, filters) are left out by name below.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startCasdoor, type CasdoorStandIn } from './server.ts';

const TRANSCRIPT = join(import.meta.dirname, 'api-transcript.jsonl');

interface Exchange {
  seq: number;
  step: string;
  method: 'GET' | 'POST';
  path: string;
  requestHeaders: Record<string, string>;
  requestBody: unknown;
  httpStatus: number;
  responseBody: unknown;
  note?: string;
}

/** Left out, with why: none of it is something the operator does. */
const NOT_MODELLED: Readonly<Record<number, string>> = {
  3: 'password sign-in in the query', 4: 'get-account', 6: 'OAuth token', 12: 'password sign-in', 52: 'groupName filter',
  67: 'field/value filter', 69: 'get-user-count', 96: 'access keys', 97: 'access keys', 98: 'access keys', 99: 'access keys',
  111: 'OAuth token', 112: 'expired OAuth token', 113: 'expired OAuth token', 114: 'OAuth token',
  115: 'lockout', 116: 'lockout', 117: 'lockout', 118: 'lockout', 119: 'lockout', 120: 'lockout',
};
/** Which credentials each exchange used, where the transcript's redaction hides it: wrong ones, or app-acme's. */
const WRONG_SECRET = new Set([7, 8, 10]);
const ACME_APP = new Set([93, 94, 95]);
/** Casdoor's own clientIds in the recording, mapped to the stand-in's. */
const RECORDED_BUILT_IN_ID = '07d0c9b97e3e784dcae0';

const test = suite<{ casdoor: CasdoorStandIn }>('Casdoor stand-in fidelity');

test.before(async (context) => {
  context.casdoor = await startCasdoor({ organizations: [] });
});
test.after(({ casdoor }) => casdoor.close());

const exchanges: Exchange[] = readFileSync(TRANSCRIPT, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as Exchange);

type Meaning = { http: number; status?: unknown; msg?: unknown; data: unknown; data2: unknown };

/** What an answer means, in the terms this test compares. */
function meaning(http: number, body: unknown): Meaning {
  if (typeof body !== 'object' || body === null) return { http, data: 'not JSON', data2: undefined };
  const { status, msg, data, data2 } = body as Record<string, unknown>;
  return { http, status, msg, data: dataMeaning(data), data2: typeof data2 === 'number' ? data2 : null };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const USER_FIELDS = ['owner', 'name', 'id', 'displayName', 'email', 'phone', 'countryCode', 'wecom', 'isForbidden', 'groups', 'title', 'gender'];
function dataMeaning(data: unknown): unknown {
  if (data === null || data === undefined) return null;
  if (typeof data === 'string' || typeof data === 'number') return data;
  if (Array.isArray(data)) return `list of ${data.length}`;
  const row = data as Record<string, unknown>;
  // A user, a group, an organization or an application: the fields that carry meaning.
  if ('clientId' in row) return { name: row['name'], organization: row['organization'], secretShown: row['clientSecret'] !== '***' };
  const fields = USER_FIELDS.filter((f) => f in row && row[f] !== '' && row[f] !== null && !(Array.isArray(row[f]) && (row[f] as unknown[]).length === 0));
  // An id Casdoor made up is a UUID: what matters is that it is one.
  return Object.fromEntries(fields.map((f) => [f, f === 'id' && UUID.test(String(row[f])) ? '<a UUID>' : row[f]]));
}

test('replays the recorded exchanges and answers as the real Casdoor did', async ({ casdoor }) => {
  const builtIn = casdoor.store.applications.get('app-built-in')!;
  const mismatches: string[] = [];
  let compared = 0;
  for (const exchange of exchanges) {
    if (NOT_MODELLED[exchange.seq]) continue;
    const acme = casdoor.store.applications.get('app-acme');
    const path = exchange.path.replace(RECORDED_BUILT_IN_ID, builtIn.clientId).replace(/clientSecret=<redacted>/, `clientSecret=${WRONG_SECRET.has(exchange.seq) ? 'wrong' : builtIn.clientSecret}`);
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(exchange.requestHeaders)) {
      if (name === 'Authorization' && value === 'Basic <redacted>') {
        const app = ACME_APP.has(exchange.seq) && acme ? acme : builtIn;
        const secret = WRONG_SECRET.has(exchange.seq) ? 'wrong' : app.clientSecret;
        headers['authorization'] = `Basic ${Buffer.from(`${app.clientId}:${secret}`).toString('base64')}`;
      } else if (name === 'Authorization') {
        headers['authorization'] = value.replace('<redacted>', 'bogus-token');
      } else {
        headers[name.toLowerCase()] = value;
      }
    }
    const body = exchange.requestBody === null ? undefined : typeof exchange.requestBody === 'string' ? JSON.stringify(exchange.requestBody) : JSON.stringify(exchange.requestBody);
    const response = await fetch(`${casdoor.url}${path}`, { method: exchange.method, headers, ...(body !== undefined && { body }) });
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text;
    }
    const expected = meaning(exchange.httpStatus, exchange.responseBody);
    const actual = meaning(response.status, parsed);
    compared++;
    if (JSON.stringify(expected) !== JSON.stringify(actual)) {
      const shown = (m: Meaning): string => JSON.stringify(m).slice(0, 400);
      mismatches.push(`seq ${exchange.seq} ${exchange.method} ${exchange.path} (${exchange.note ?? ''}):\n  real     ${shown(expected)}\n  stand-in ${shown(actual)}`);
    }
    assert.ok(response.headers.get('set-cookie')?.startsWith('casdoor_session_id='), `seq ${exchange.seq}: no session cookie`);
  }
  assert.equal(mismatches, [], `${mismatches.length} of ${compared} answers differ`);
  assert.is(compared, exchanges.length - Object.keys(NOT_MODELLED).length);
  console.log(`  compared ${compared} of ${exchanges.length} exchanges; left out ${Object.keys(NOT_MODELLED).length} the operator never makes`);
});

test.run();
