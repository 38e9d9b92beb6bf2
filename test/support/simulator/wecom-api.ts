import { randomBytes } from 'node:crypto';
import type { Faults } from './faults.ts';
import { isRecord, type SimDepartment, type SimMember, type SimOrg } from './org.ts';

/** An answer before it is written: HTTP status and JSON (or text) body. */
export interface Answer {
  status: number;
  body: string;
  contentType: string;
}

/** One API call as the simulator sees it. */
export interface ApiCall {
  /** Below `/cgi-bin/`, e.g. `user/list`. */
  endpoint: string;
  query: URLSearchParams;
  body: unknown;
  /** The address named in `from ip:`. */
  callerIP: string;
}

/** Which secret a token was issued for. */
type SecretKind = 'app' | 'contacts';

interface Token {
  kind: SecretKind;
  expiresAt: number;
  /** Set when the token was killed early: the errcode its callers get. */
  killedWith?: number;
}

/** WeCom's errmsg texts for the codes the simulator answers. */
const ERRMSG: Record<number, string> = {
  [-1]: 'system busy',
  40001: 'invalid credential',
  40013: 'invalid corpid',
  40014: 'invalid access_token',
  41001: 'access_token missing',
  41002: 'corpid missing',
  41004: 'corpsecret missing',
  42001: 'access_token expired',
  45009: 'api freq out of limit',
  45033: 'api concurrent out of limit',
  48002: 'api forbidden',
  48009: 'api not allowed for this ip with this secret',
  60003: 'department not found',
  60011: 'no privilege to access/modify contact/party/agent',
  60020: 'not allow to access from your ip',
  60111: 'userid not found',
  60123: 'invalid party id',
};

const PRIVATE_FIELDS = ['avatar', 'thumb_avatar', 'mobile', 'email', 'biz_mail', 'qr_code', 'address'];
/** Detail APIs the contacts secret may not call from an IP added since 2022-08-15 (48009). */
const DETAIL_APIS = new Set(['user/get', 'user/list', 'user/simplelist', 'department/list', 'department/get']);

/** Thrown inside a handler to answer with a WeCom errcode. */
class ErrcodeAnswer extends Error {
  readonly errcode: number;
  constructor(errcode: number) {
    super(`errcode ${errcode}`);
    this.errcode = errcode;
  }
}

/** The simulated corp: credentials, tokens, contacts; answers WeCom API calls. */
export class SimCorp {
  readonly corpId: string;
  readonly corpSecret: string;
  readonly contactsSecret: string;
  org: SimOrg;
  readonly faults: Faults;
  tokenLifetimeSeconds: number;
  /** Incremented on each token issued. */
  tokensIssued = 0;
  /** Every token ever issued, so tests can prove none leaked into logs, Events or status. */
  readonly issuedTokens: string[] = [];
  readonly #tokens = new Map<string, Token>();
  #hints = 0;
  #index: { members: SimMember[]; length: number; byDepartment: Map<number, SimMember[]> } | undefined;

  constructor(init: { corpId: string; corpSecret: string; contactsSecret: string; org: SimOrg; faults: Faults; tokenLifetimeSeconds: number }) {
    this.corpId = init.corpId;
    this.corpSecret = init.corpSecret;
    this.contactsSecret = init.contactsSecret;
    this.org = init.org;
    this.faults = init.faults;
    this.tokenLifetimeSeconds = init.tokenLifetimeSeconds;
  }

  /** Makes every token issued so far answer `errcode` (40014 or 42001) from now on. */
  killTokens(errcode: number): void {
    for (const token of this.#tokens.values()) token.killedWith = errcode;
  }

  /** Answers one API call. */
  answer(call: ApiCall): Answer {
    try {
      return ok(this.#route(call));
    } catch (error) {
      if (!(error instanceof ErrcodeAnswer)) throw error;
      return this.errorAnswer(error.errcode, call.callerIP);
    }
  }

  /** An HTTP 200 error answer with WeCom's errmsg tail. */
  errorAnswer(errcode: number, callerIP: string): Answer {
    const hint = `${Math.floor(Date.now() / 1000)}_${String(++this.#hints).padStart(10, '0')}`;
    const errmsg = `${ERRMSG[errcode] ?? 'error'}, hint: [${hint}], from ip: ${callerIP}, ` +
      `more info at https://open.work.weixin.qq.com/devtool/query?e=${errcode}`;
    return { status: 200, contentType: 'application/json', body: JSON.stringify({ errcode, errmsg }) };
  }

  #route(call: ApiCall): Record<string, unknown> {
    if (Date.now() < this.faults.frequencyLimitedUntil) throw new ErrcodeAnswer(45009);
    if (call.endpoint === 'gettoken') return this.#getToken(call.query);
    const kind = this.#authenticate(call.query);
    if (this.faults.untrustedIP) throw new ErrcodeAnswer(60020);
    if (kind === 'contacts' && !this.faults.contactsSecretTrustedBefore2022 && DETAIL_APIS.has(call.endpoint)) throw new ErrcodeAnswer(48009);
    switch (call.endpoint) {
      case 'department/list':
        return { department: this.#departments(kind, call.query).map((d) => ({ ...d })) };
      case 'department/simplelist':
        return { department_id: this.#departments(kind, call.query).map(({ id, parentid, order }) => ({ id, parentid, order })) };
      case 'user/list':
        return { userlist: this.#userList(kind, call.query) };
      case 'user/get':
        return this.#userGet(kind, call.query);
      case 'user/list_id':
        if (kind !== 'contacts') throw new ErrcodeAnswer(48002);
        return this.#listId(call.body);
      default:
        throw new ErrcodeAnswer(48002);
    }
  }

  #getToken(query: URLSearchParams): Record<string, unknown> {
    const corpId = query.get('corpid');
    const secret = query.get('corpsecret');
    if (!corpId) throw new ErrcodeAnswer(41002);
    if (corpId !== this.corpId) throw new ErrcodeAnswer(40013);
    if (!secret) throw new ErrcodeAnswer(41004);
    const kind: SecretKind | undefined = secret === this.corpSecret ? 'app' : secret === this.contactsSecret ? 'contacts' : undefined;
    if (!kind) throw new ErrcodeAnswer(40001);
    const accessToken = randomBytes(48).toString('base64url');
    this.#tokens.set(accessToken, { kind, expiresAt: Date.now() + this.tokenLifetimeSeconds * 1000 });
    this.tokensIssued++;
    this.issuedTokens.push(accessToken);
    this.#forgetExpired();
    return { access_token: accessToken, expires_in: this.tokenLifetimeSeconds };
  }

  #authenticate(query: URLSearchParams): SecretKind {
    const value = query.get('access_token');
    if (!value) throw new ErrcodeAnswer(41001);
    const token = this.#tokens.get(value);
    if (!token) throw new ErrcodeAnswer(40014);
    if (token.killedWith !== undefined) throw new ErrcodeAnswer(token.killedWith);
    if (Date.now() >= token.expiresAt) throw new ErrcodeAnswer(42001);
    return token.kind;
  }

  #forgetExpired(): void {
    // Expired tokens are kept an hour so their callers get 42001, not 40014.
    const horizon = Date.now() - 3_600_000;
    for (const [value, token] of this.#tokens) if (token.expiresAt < horizon) this.#tokens.delete(value);
  }

  /** Departments the secret may see: the app secret only its scope's subtrees. */
  #visible(kind: SecretKind): SimDepartment[] {
    const scope = this.org.appScope;
    if (kind === 'contacts' || !scope) return this.org.departments;
    return this.org.departments.filter((d) => this.#withinAny(d.id, scope));
  }

  #withinAny(id: number, roots: readonly number[]): boolean {
    const byId = new Map(this.org.departments.map((d) => [d.id, d]));
    for (let at = byId.get(id), hops = 0; at && hops < 1000; at = byId.get(at.parentid), hops++) {
      if (roots.includes(at.id)) return true;
    }
    return false;
  }

  #departments(kind: SecretKind, query: URLSearchParams): SimDepartment[] {
    const visible = this.#visible(kind);
    const idText = query.get('id');
    if (idText === null || idText === '') return visible;
    const id = this.#departmentId(idText, kind);
    return visible.filter((d) => this.#withinAny(d.id, [id]));
  }

  #departmentId(text: string | null, kind: SecretKind): number {
    const id = Number(text);
    if (!text || !Number.isInteger(id) || id <= 0) throw new ErrcodeAnswer(60123);
    if (!this.org.departments.some((d) => d.id === id)) throw new ErrcodeAnswer(60003);
    if (!this.#visible(kind).some((d) => d.id === id)) throw new ErrcodeAnswer(60011);
    return id;
  }

  #userList(kind: SecretKind, query: URLSearchParams): unknown[] {
    const id = this.#departmentId(query.get('department_id'), kind);
    if (this.faults.failingDepartments.includes(id)) throw new ErrcodeAnswer(-1);
    const list: unknown[] = (this.#membersByDepartment().get(id) ?? []).map((m) => this.#present(m));
    for (const hostile of this.faults.hostileRecords) if (hostile.departmentId === id) list.push(hostile.record);
    return list;
  }

  /**
   * Members per department, rebuilt when the member list is replaced or changes length:
   * scanning 10,000 members per call would make the simulator, not the client, the bottleneck.
   * Changing a member's departments in place needs a new list (setOrg or patchOrg).
   */
  #membersByDepartment(): Map<number, SimMember[]> {
    const members = this.org.members;
    if (this.#index?.members !== members || this.#index.length !== members.length) {
      const byDepartment = new Map<number, SimMember[]>();
      for (const member of members) {
        for (const id of member.department) {
          const list = byDepartment.get(id);
          if (list) list.push(member);
          else byDepartment.set(id, [member]);
        }
      }
      this.#index = { members, length: members.length, byDepartment };
    }
    return this.#index.byDepartment;
  }

  #userGet(kind: SecretKind, query: URLSearchParams): Record<string, unknown> {
    const userid = (query.get('userid') ?? '').toLowerCase();
    const member = this.org.members.find((m) => m.userid.toLowerCase() === userid);
    if (!member) throw new ErrcodeAnswer(60111);
    const visible = new Set(this.#visible(kind).map((d) => d.id));
    if (!member.department.some((id) => visible.has(id))) throw new ErrcodeAnswer(60011);
    return this.#present(member);
  }

  #listId(body: unknown): Record<string, unknown> {
    const request = isRecord(body) ? body : {};
    const limit = Math.min(10_000, Math.max(1, Number(request['limit']) || 10_000));
    const cursor = typeof request['cursor'] === 'string' ? request['cursor'] : '';
    const offset = cursor === '' ? 0 : Number(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (!Number.isInteger(offset) || offset < 0) throw new ErrcodeAnswer(40058);
    const rows = this.org.members.flatMap((m) => m.department.map((department) => ({ userid: m.userid, department })));
    const page = rows.slice(offset, offset + limit);
    const end = offset + page.length;
    return { next_cursor: end < rows.length ? Buffer.from(String(end)).toString('base64url') : '', dept_user: page };
  }

  /** A member as the API shows it today: privacy rules applied. */
  #present(member: SimMember): Record<string, unknown> {
    const shown: Record<string, unknown> = { ...member };
    if (this.faults.privacyMode) {
      for (const field of PRIVATE_FIELDS) delete shown[field];
      if ('gender' in shown) shown['gender'] = '0';
    }
    return shown;
  }
}

function ok(payload: Record<string, unknown>): Answer {
  return { status: 200, contentType: 'application/json', body: JSON.stringify({ errcode: 0, errmsg: 'ok', ...payload }) };
}
