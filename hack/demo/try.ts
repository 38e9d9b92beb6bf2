// What `make demo` prints once the syncer is Ready: commands to paste into
// another terminal, exact for this run (kubeconfig path, simulator URL).
import type { SimMember, SimOrg } from '../../test/support/simulator/org.ts';

/** What the instructions need to know about the running demo. */
export interface DemoEndpoints {
  kubeconfig: string;
  simulatorURL: string;
  namespace: string;
  syncer: string;
  operatorLog: string;
  metricsURL: string;
}

/** Quotes a string for a POSIX shell. */
function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/** An active member: the preferred userid when present, else the first active one not yet used. */
function pickMember(org: SimOrg, preferred: string, used: Set<string>): SimMember | undefined {
  const active = org.members.filter((m) => m.status === 1 && !used.has(m.userid));
  const member = active.find((m) => m.userid === preferred) ?? active.at(-1);
  if (member) used.add(member.userid);
  return member;
}

function postOrg(simulatorURL: string, patch: object): string {
  return `curl -s -X POST ${simulatorURL}/__sim/org -H 'content-type: application/json' \\\n    -d ${shellQuote(JSON.stringify(patch))}`;
}

/** The "what to try" text, ending with a newline. */
export function tryText(org: SimOrg, at: DemoEndpoints): string {
  const used = new Set<string>();
  const renamed = pickMember(org, 'HeXia', used);
  const disabled = pickMember(org, 'LinFang', used);
  const removed = pickMember(org, 'SongHua', used);
  const ns = `-n ${at.namespace}`;
  const requestSync = `kubectl annotate wcs ${at.syncer} ${ns} casdoor.org/sync-requested-at="$(date -u +%FT%TZ)" --overwrite`;
  const lines = [
    'What to try, in another terminal:',
    '',
    `  export KUBECONFIG=${at.kubeconfig}`,
    '',
    '  # request a sync now (the interval is 5m)',
    `  ${requestSync}`,
    '',
    '  # watch the users while you change WeCom below',
    `  kubectl get cu ${ns} -w`,
    '',
  ];
  // A member upsert replaces the whole member, so the commands carry every field.
  if (renamed) {
    const name = typeof renamed['name'] === 'string' ? `${renamed['name']} (renamed)` : 'Renamed';
    lines.push(`  # rename ${renamed.userid} in the simulated WeCom, then request a sync (above)`);
    lines.push(`  ${postOrg(at.simulatorURL, { upsertMembers: [{ ...renamed, name }] })}`, '');
  }
  if (disabled) {
    lines.push(`  # disable ${disabled.userid} (status 2): the user becomes FORBIDDEN after a sync`);
    lines.push(`  ${postOrg(at.simulatorURL, { upsertMembers: [{ ...disabled, status: 2 }] })}`, '');
  }
  if (removed) {
    lines.push(`  # remove ${removed.userid} from WeCom: with removedUsers: Forbid the user stays, forbidden`);
    lines.push(`  ${postOrg(at.simulatorURL, { removeUserIds: [removed.userid] })}`, '');
  }
  lines.push(
    '  # what the operator did: conditions, counts, events',
    `  kubectl describe wcs ${at.syncer} ${ns}`,
    '',
    '  # the simulated organization, the operator log, its metrics',
    `  curl -s ${at.simulatorURL}/__sim/org`,
    `  tail -f ${at.operatorLog}`,
    `  curl -s ${at.metricsURL}`,
    '',
  );
  return `${lines.join('\n')}\n`;
}
