// The stand-in Casdoor's data and rules: organizations, applications, users and
// groups, judged the way Casdoor v3.158.0 judges them (shared/reference/casdoor-api-facts.md
// and the recorded transcript). No HTTP here: server.ts speaks the protocol.
import { randomBytes, randomUUID } from 'node:crypto';
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';
import { UserTable } from './user-table.ts';

/** A JSON object as Casdoor stores it. */
export type Row = Record<string, unknown>;

/** Who is calling: an application (a global admin, as in Casdoor), or nobody. */
export type Caller = { app: Application } | { anonymous: true };

/** An application and its client credentials. */
export interface Application {
  name: string;
  organization: string;
  clientId: string;
  clientSecret: string;
}

/** A refusal, answered as `{status: "error", msg}` with HTTP 200. */
export class Refusal extends Error {}

const FORBIDDEN_NAME_CHARS = '/?:#&%=+;';
const USERNAME_RULE = /^[a-zA-Z0-9]+([-._][a-zA-Z0-9]+)*$/;
const USERNAME_RULE_MESSAGE = 'The username may only contain alphanumeric characters, underlines or hyphens, cannot have consecutive hyphens or underlines, and cannot begin or end with a hyphen or underline.';
const BUILT_IN_MESSAGE = "adding a new user to the 'built-in' organization is currently disabled. Please note: all users in the 'built-in' organization are global administrators in Casdoor. Refer to the docs: https://casdoor.org/docs/basic/core-concepts#how-does-casdoor-manage-itself. If you still wish to create a user for the 'built-in' organization, go to the organization's settings page and enable the 'Has privilege consent' option.";

/** The columns update-user overwrites when no `columns` is given (a part of Casdoor's list). */
const OVERWRITTEN_COLUMNS = [
  'displayName', 'firstName', 'lastName', 'avatar', 'email', 'phone', 'countryCode', 'region', 'location', 'affiliation',
  'title', 'homepage', 'bio', 'tag', 'language', 'gender', 'birthday', 'isForbidden', 'isDeleted', 'isAdmin', 'groups',
  'wecom', 'registerType', 'registerSource', 'properties', 'type', 'id', 'signupApplication',
];
const BOOLEAN_FIELDS = ['isForbidden', 'isDeleted', 'isAdmin', 'emailVerified'];

/** What a user has before anything is written to it. */
function blankUser(owner: string, name: string, now: string): Row {
  return {
    owner, name, createdTime: now, updatedTime: now, deletedTime: '', id: '', externalId: '', type: '', password: '',
    displayName: '', firstName: '', lastName: '', avatar: '', email: '', emailVerified: false, phone: '', countryCode: '',
    region: '', location: '', affiliation: '', title: '', homepage: '', bio: '', tag: '', language: '', gender: '',
    birthday: '', isAdmin: false, isForbidden: false, isDeleted: false, signupApplication: '', registerType: 'Add User',
    registerSource: '', wecom: '', groups: [], properties: {}, mfaEnabled: false,
  };
}

function blankValue(value: unknown): unknown {
  if (Array.isArray(value)) return [];
  if (typeof value === 'boolean') return false;
  if (typeof value === 'number') return 0;
  if (typeof value === 'object' && value !== null) return {};
  return '';
}

const camel = (column: string): string => column.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());

/** The stand-in's state, and Casdoor's rules for changing it. */
export class CasdoorStore {
  readonly organizations = new Map<string, Row>();
  readonly applications = new Map<string, Application>();
  /** Users by `owner/name` (case-sensitive, as on sqlite). */
  readonly users = new UserTable();
  /** Groups by name: in v3.158.0 group names are unique across all organizations. */
  readonly groups = new Map<string, Row>();

  constructor() {
    this.organizations.set('built-in', { owner: 'admin', name: 'built-in', countryCodes: ['US'] });
    this.addApplicationRow({ name: 'app-built-in', organization: 'built-in', clientId: randomBytes(10).toString('hex'), clientSecret: randomBytes(20).toString('hex') });
    this.users.set('built-in/admin', { ...blankUser('built-in', 'admin', now()), type: 'normal-user', isAdmin: true, displayName: 'Admin' });
  }

  /** Registers an application and its credentials. */
  addApplicationRow(app: Application): Application {
    this.applications.set(app.name, app);
    return app;
  }

  /** The application of a client ID, if any. */
  appByClientId(clientId: string): Application | undefined {
    return [...this.applications.values()].find((a) => a.clientId === clientId);
  }

  /** Creates an organization that can take users: it gets an application of its own. */
  createOrganization(name: string, countryCodes: string[] = ['CN']): Application {
    this.organizations.set(name, { owner: 'admin', name, displayName: name, countryCodes });
    return this.addApplicationRow({ name: `app-${name}`, organization: name, clientId: randomBytes(10).toString('hex'), clientSecret: randomBytes(20).toString('hex') });
  }

  addOrganization(body: Row): void {
    const name = String(body['name'] ?? '');
    if (this.organizations.has(name)) throw new Refusal('constraint failed: UNIQUE constraint failed: organization.owner, organization.name (1555)');
    this.organizations.set(name, { countryCodes: ['CN'], ...body, owner: 'admin', name });
  }

  addApplication(body: Row): void {
    const name = String(body['name'] ?? '');
    if (this.applications.has(name)) throw new Refusal('constraint failed: UNIQUE constraint failed: application.owner, application.name (1555)');
    this.addApplicationRow({
      name,
      organization: String(body['organization'] ?? 'built-in'),
      clientId: typeof body['clientId'] === 'string' && body['clientId'] !== '' ? body['clientId'] : randomBytes(10).toString('hex'),
      clientSecret: typeof body['clientSecret'] === 'string' && body['clientSecret'] !== '' ? body['clientSecret'] : randomBytes(20).toString('hex'),
    });
  }

  /** A user as get-user answers it, or null: by `owner/name`, or by its `id` field within an organization. */
  getUser(id: string | { owner: string; userId: string }): Row | null {
    if (typeof id === 'string') return this.users.get(id) ?? null;
    const key = this.users.keyOf(id.owner, 'id', id.userId);
    return key === undefined ? null : this.users.get(key) ?? null;
  }

  /** The users of an organization, in creation order. */
  usersOf(owner: string): Row[] {
    return this.users.ofOwner(owner);
  }

  addUser(body: unknown): void {
    const user = asUserBody(body);
    const owner = String(user['owner'] ?? '');
    const name = String(user['name'] ?? '');
    this.#checkName(name);
    const organization = this.organizations.get(owner);
    if (!organization) throw new Refusal(`The organization: ${owner} does not exist`);
    if (owner === 'built-in') throw new Refusal(BUILT_IN_MESSAGE);
    if (![...this.applications.values()].some((a) => a.organization === owner)) {
      throw new Refusal('The organization: admin should have one application at least');
    }
    if (this.users.has(`${owner}/${name}`)) throw new Refusal('Username already exists');
    const row: Row = { ...blankUser(owner, name, now()), ...user, owner, name };
    // Casdoor gives a user without an id a UUID.
    if (!row['id']) row['id'] = randomUUID();
    this.#normalisePhone(row, organization);
    this.#checkUnique(row, undefined);
    this.users.set(`${owner}/${name}`, row);
  }

  updateUser(id: string, body: unknown, columns: string[] | undefined): 'Affected' {
    const stored = this.users.get(id);
    if (!stored) throw new Refusal(`The user: ${id} doesn't exist`);
    const user = asUserBody(body);
    const next: Row = { ...stored };
    if (columns === undefined) {
      if ((user['id'] ?? '') !== stored['id']) throw new Refusal('The ID is immutable.');
      for (const column of OVERWRITTEN_COLUMNS) next[column] = column in user ? user[column] : blankValue(stored[column]);
    } else {
      for (const column of columns.map(camel)) {
        if (!(column in stored)) continue; // an unknown column is ignored, and still "Affected"
        if (column === 'properties') next['properties'] = { ...(stored['properties'] as Row | null ?? {}), ...(user['properties'] as Row | null ?? {}) };
        else if (column in user) next[column] = user[column];
      }
    }
    const organization = this.organizations.get(String(stored['owner']));
    if (organization && (next['phone'] !== stored['phone'] || next['countryCode'] !== stored['countryCode'])) this.#normalisePhone(next, organization);
    this.#checkUnique(next, id);
    next['updatedTime'] = now();
    this.users.set(id, next);
    return 'Affected';
  }

  deleteUser(body: unknown): 'Affected' | 'Unaffected' {
    const { owner, name } = ownerAndName(body);
    if (owner === 'built-in' && name === 'admin') throw new Refusal('Unauthorized operation');
    return this.users.delete(`${owner}/${name}`) ? 'Affected' : 'Unaffected';
  }

  /** The groups of an organization; as a tree with `withTree`. */
  groupsOf(owner: string, withTree: boolean): Row[] {
    const groups = [...this.groups.values()].filter((g) => g['owner'] === owner);
    if (!withTree) return groups;
    const node = (g: Row): Row => ({ owner, name: '', title: g['displayName'], key: g['name'], type: g['type'], children: groups.filter((c) => c['parentId'] === g['name']).map(node) });
    return groups.filter((g) => g['isTopGroup'] === true).map(node);
  }

  getGroup(id: string): Row | null {
    const [owner, name] = id.split('/');
    const group = name === undefined ? undefined : this.groups.get(name);
    if (!group || group['owner'] !== owner) return null;
    const users = this.usersOf(owner!).filter((u) => (u['groups'] as string[] | undefined)?.includes(id)).map((u) => `${owner}/${String(u['name'])}`);
    return { ...group, users };
  }

  addGroup(body: unknown): void {
    const group = asObject(body, 'Group');
    const owner = String(group['owner'] ?? '');
    const name = String(group['name'] ?? '');
    if ([...FORBIDDEN_NAME_CHARS].some((c) => name.includes(c))) throw new Refusal(`Field 'name' contains forbidden characters: "${FORBIDDEN_NAME_CHARS}"`);
    if (name === owner) throw new Refusal("group name can't be same as the organization name");
    if (this.groups.has(name)) throw new Refusal('constraint failed: UNIQUE constraint failed: group.name (2067)');
    this.groups.set(name, {
      owner, name, createdTime: '', updatedTime: '', displayName: '', manager: '', contactEmail: '', type: '', parentId: '',
      parentName: '', isTopGroup: false, users: null, haveChildren: false, isEnabled: true, gidNumber: 0, properties: null, ...group,
    });
  }

  updateGroup(id: string, body: unknown): 'Affected' | 'Unaffected' {
    const group = asObject(body, 'Group');
    const [owner, name] = id.split('/');
    const stored = name === undefined ? undefined : this.groups.get(name);
    if (!stored || stored['owner'] !== owner) return 'Unaffected';
    // Every column is overwritten with the body: what is not sent is emptied.
    const next: Row = { owner, name };
    for (const [key, value] of Object.entries(stored)) if (key !== 'owner' && key !== 'name') next[key] = key in group ? group[key] : blankValue(value);
    this.groups.set(name!, next);
    return 'Affected';
  }

  deleteGroup(body: unknown): 'Affected' | 'Unaffected' {
    const { owner, name } = ownerAndName(body);
    const group = this.groups.get(name);
    if (!group || group['owner'] !== owner) return 'Unaffected';
    if (this.usersOf(owner).some((u) => (u['groups'] as string[] | undefined)?.includes(`${owner}/${name}`))) throw new Refusal('group has users');
    if ([...this.groups.values()].some((g) => g['owner'] === owner && g['parentId'] === name)) throw new Refusal('group has children group');
    this.groups.delete(name);
    return 'Affected';
  }

  #checkName(name: string): void {
    if ([...FORBIDDEN_NAME_CHARS].some((c) => name.includes(c))) throw new Refusal(`Field 'name' contains forbidden characters: "${FORBIDDEN_NAME_CHARS}"`);
    if (name.length > 255) throw new Refusal('Username is too long (maximum is 255 characters).');
    if (!USERNAME_RULE.test(name)) throw new Refusal(USERNAME_RULE_MESSAGE);
  }

  /** Casdoor stores a phone as national digits and a region, and refuses one not valid for its region. */
  #normalisePhone(row: Row, organization: Row): void {
    const phone = String(row['phone'] ?? '');
    if (phone === '') return;
    const region = (String(row['countryCode'] ?? '') || ((organization['countryCodes'] as string[] | undefined)?.[0] ?? 'CN')) as CountryCode;
    const parsed = parsePhoneNumberFromString(phone, region);
    const valid = parsed?.isValid() && parsed.country !== undefined && (phone.startsWith('+') || !row['countryCode'] || parsed.country === row['countryCode']);
    if (!parsed || !valid) throw new Refusal('Phone number is invalid');
    row['phone'] = parsed.nationalNumber;
    row['countryCode'] = parsed.country;
  }

  /** Email and phone are unique within an organization (phones compared normalised). */
  #checkUnique(row: Row, selfId: string | undefined): void {
    const owner = String(row['owner']);
    const taken = (key: string | undefined): boolean => key !== undefined && key !== selfId;
    if (row['email'] && taken(this.users.keyOf(owner, 'email', String(row['email'])))) throw new Refusal('Email already exists');
    if (row['phone'] && taken(this.users.keyOf(owner, 'phone', String(row['phone']), String(row['countryCode'] ?? '')))) throw new Refusal('Phone already exists');
  }
}

function now(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
}

function asObject(body: unknown, type: string): Row {
  if (typeof body === 'string') throw new Refusal(`json: cannot unmarshal string into Go value of type object.${type}`);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new Refusal(`json: cannot unmarshal ${Array.isArray(body) ? 'array' : 'number'} into Go value of type object.${type}`);
  return body as Row;
}

function asUserBody(body: unknown): Row {
  const user = asObject(body, 'User');
  for (const field of BOOLEAN_FIELDS) {
    if (field in user && typeof user[field] !== 'boolean') throw new Refusal(`json: cannot unmarshal ${typeof user[field]} into Go struct field User.${field} of type bool`);
  }
  if ('groups' in user && user['groups'] !== null && !Array.isArray(user['groups'])) throw new Refusal('json: cannot unmarshal string into Go struct field User.groups of type []string');
  return user;
}

function ownerAndName(body: unknown): { owner: string; name: string } {
  const row = asObject(body, 'User');
  return { owner: String(row['owner'] ?? ''), name: String(row['name'] ?? '') };
}
