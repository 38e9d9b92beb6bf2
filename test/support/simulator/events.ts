// WeCom's side of contact-change events: what its "Sync of Contacts" tool sends
// an event receiver when the organization changes (the 2022 rules: ids only;
// an edit of a name, phone or position sends nothing), encrypted and signed
// with Tencent's own library (@wecom/crypto), so the operator's cipher is
// checked against WeCom's rather than against itself. Delivery as WeCom does
// it: 3 attempts in all, answered within 5 seconds or counted as failed.
import { randomBytes } from 'node:crypto';
import { encrypt, getSignature } from '@wecom/crypto';
import type { SimDepartment, SimMember, SimOrg } from './org.ts';

/** Where the simulated corp sends its events, and with what the admin console holds. */
export interface EventReceiver {
  url: string;
  token: string;
  encodingAESKey: string;
}

/** One change WeCom reports, with the fields it still sends since 2022. */
export interface ContactChange {
  changeType: 'create_user' | 'update_user' | 'delete_user' | 'create_party' | 'update_party' | 'delete_party';
  fields: Record<string, string>;
}

/** How one event went: its attempts' HTTP statuses (0: no answer) and when it was first sent. */
export interface Delivery {
  change: ContactChange;
  statuses: number[];
  sentAt: number;
  delivered: boolean;
}

const ATTEMPTS = 3;
const ANSWER_WITHIN_MS = 5000;

/** The changes from `before` to `after` that WeCom sends an event for. */
export function changesBetween(before: SimOrg, after: SimOrg): ContactChange[] {
  const changes: ContactChange[] = [];
  const members = new Map(before.members.map((m) => [m.userid, m]));
  const now = new Set(after.members.map((m) => m.userid));
  for (const member of after.members) {
    const old = members.get(member.userid);
    if (!old) changes.push({ changeType: 'create_user', fields: { UserID: member.userid, Department: departmentsOf(member) } });
    else if (departmentsOf(old) !== departmentsOf(member)) changes.push({ changeType: 'update_user', fields: { UserID: member.userid, Department: departmentsOf(member) } });
  }
  for (const member of before.members) if (!now.has(member.userid)) changes.push({ changeType: 'delete_user', fields: { UserID: member.userid } });
  const departments = new Map(before.departments.map((d) => [d.id, d]));
  const still = new Set(after.departments.map((d) => d.id));
  for (const department of after.departments) {
    const old = departments.get(department.id);
    if (!old) changes.push({ changeType: 'create_party', fields: party(department) });
    else if (old.parentid !== department.parentid) changes.push({ changeType: 'update_party', fields: party(department) });
  }
  for (const department of before.departments) if (!still.has(department.id)) changes.push({ changeType: 'delete_party', fields: { Id: String(department.id) } });
  return changes;
}

function departmentsOf(member: SimMember): string {
  return member.department.join(',');
}

function party(department: SimDepartment): Record<string, string> {
  return { Id: String(department.id), ParentId: String(department.parentid) };
}

/** The decrypted event XML WeCom sends for one change. */
export function eventXml(corpId: string, change: ContactChange, createTime: number): string {
  const fields = Object.entries(change.fields).map(([name, value]) => `<${name}><![CDATA[${value}]]></${name}>`).join('');
  return `<xml><ToUserName><![CDATA[${corpId}]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName><CreateTime>${createTime}</CreateTime>`
    + `<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[change_contact]]></Event><ChangeType><![CDATA[${change.changeType}]]></ChangeType>${fields}</xml>`;
}

/** A signed request as WeCom sends it: the query, and for an event the body. */
export function signedEvent(receiver: EventReceiver, corpId: string, change: ContactChange, now = Date.now()): { query: URLSearchParams; body: string } {
  const timestamp = String(Math.floor(now / 1000));
  const nonce = String(randomBytes(6).readUIntBE(0, 6));
  const encrypted = encrypt(receiver.encodingAESKey, eventXml(corpId, change, Number(timestamp)), corpId);
  const query = new URLSearchParams({ msg_signature: getSignature(receiver.token, timestamp, nonce, encrypted), timestamp, nonce });
  return { query, body: `<xml><ToUserName><![CDATA[${corpId}]]></ToUserName><Encrypt><![CDATA[${encrypted}]]></Encrypt></xml>` };
}

/** Sends each change as WeCom does: one POST per event, up to 3 attempts, a 5-second answer limit. */
export async function deliver(receiver: EventReceiver, corpId: string, changes: readonly ContactChange[]): Promise<Delivery[]> {
  return Promise.all(changes.map(async (change) => {
    const delivery: Delivery = { change, statuses: [], sentAt: Date.now(), delivered: false };
    // Each attempt is the same request again: WeCom resends, it does not sign anew.
    const { query, body } = signedEvent(receiver, corpId, change);
    for (let attempt = 1; attempt <= ATTEMPTS && !delivery.delivered; attempt++) {
      const status = await post(`${receiver.url}?${query}`, body);
      delivery.statuses.push(status);
      delivery.delivered = status === 200;
    }
    return delivery;
  }));
}

/** The URL check WeCom runs when the admin saves the receiver: whether the answer is the echostr's plaintext. */
export async function checkReceiverURL(receiver: EventReceiver, corpId: string): Promise<{ status: number; body: string; expected: string }> {
  const expected = String(randomBytes(8).readBigUInt64BE());
  const timestamp = String(Math.floor(Date.now() / 1000));
  const nonce = String(randomBytes(4).readUInt32BE());
  const echostr = encrypt(receiver.encodingAESKey, expected, corpId);
  const query = new URLSearchParams({ msg_signature: getSignature(receiver.token, timestamp, nonce, echostr), timestamp, nonce, echostr });
  const response = await fetch(`${receiver.url}?${query}`, { signal: AbortSignal.timeout(1000) });
  return { status: response.status, body: await response.text(), expected };
}

async function post(url: string, body: string): Promise<number> {
  try {
    const response = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'text/xml' }, signal: AbortSignal.timeout(ANSWER_WITHIN_MS) });
    await response.arrayBuffer();
    return response.status;
  } catch {
    return 0;
  }
}
