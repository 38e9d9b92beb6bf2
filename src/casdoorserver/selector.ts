import type { LabelSelector } from '../api/casdoor-server.ts';

/** Whether `labels` match a Kubernetes label selector; an empty or absent selector matches everything. */
export function selects(selector: LabelSelector | undefined, labels: Readonly<Record<string, string>> | undefined): boolean {
  const have = labels ?? {};
  for (const [key, value] of Object.entries(selector?.matchLabels ?? {})) if (have[key] !== value) return false;
  for (const { key, operator, values = [] } of selector?.matchExpressions ?? []) {
    const present = Object.hasOwn(have, key);
    switch (operator) {
      case 'In': if (!present || !values.includes(have[key]!)) return false; break;
      case 'NotIn': if (present && values.includes(have[key]!)) return false; break;
      case 'Exists': if (!present) return false; break;
      case 'DoesNotExist': if (present) return false; break;
      default: return false;
    }
  }
  return true;
}
