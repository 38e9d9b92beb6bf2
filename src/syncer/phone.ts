import { Metadata, parsePhoneNumberFromString } from 'libphonenumber-js/max';

/** A phone as Casdoor stores it: national digits, and the region they belong to. */
export interface CasdoorPhone {
  phone: string;
  /** ISO 3166 region, e.g. CN or HK; absent when the number is not valid for any. */
  countryCode?: string;
}

/** WeCom's numbers without a `+CC` prefix are mainland numbers. */
const DEFAULT_REGION = 'CN';

/**
 * A WeCom `mobile` in the form Casdoor stores on write, so what Casdoor holds
 * compares equal to the spec: `+86 13800000009` -> 13800000009 + CN,
 * `+852 61234567` -> 61234567 + HK, a number without a prefix taken as CN,
 * spaces and dashes dropped. The region comes from libphonenumber's metadata,
 * as Casdoor's does (`+1 416…` is CA, `+1 212…` US). A number that is not
 * valid for its region is passed on as is (without spaces and dashes): Casdoor
 * refuses it, and the CasdoorServer reports that.
 */
export function casdoorPhone(mobile: string): CasdoorPhone {
  const compact = mobile.replace(/[\s-]+/g, '');
  const mainland = mainlandMobile?.(compact);
  if (mainland !== undefined) return mainland;
  const parsed = parsePhoneNumberFromString(compact, DEFAULT_REGION);
  if (!parsed?.isValid() || !parsed.country) return { phone: compact };
  return { phone: parsed.nationalNumber, countryCode: parsed.country };
}

/** What the fast path needs of the region's numbering plan: libphonenumber's, read once. */
interface RegionRules {
  /** Strips a national prefix or carrier code: a number it matches at its start is left to the library. */
  prefixForParsing: RegExp;
  /** The international dialling prefix (00 and carrier-selected ones): stripped too, so left to the library. */
  iddPrefix: RegExp;
  /** Every valid national number matches it. */
  general: RegExp;
  /** Each number type's pattern, and the lengths it allows (none listed: any). */
  types: ReadonlyArray<{ pattern: RegExp; lengths?: readonly number[] }>;
}

/**
 * The number types libphonenumber's validity check tries, fixed line first (its own list is not exported).
 * Were a later version to add one, numbers of it would be valid there and not here: the test's sample
 * compares the two answers.
 */
const NUMBER_TYPES = ['FIXED_LINE', 'MOBILE', 'PREMIUM_RATE', 'TOLL_FREE', 'SHARED_COST', 'VOIP', 'PERSONAL_NUMBER', 'PAGER', 'UAN', 'VOICEMAIL'];

/**
 * The answer for the common case, an 11-digit mainland number without a prefix
 * that starts with 1 (every mainland mobile), as the library gives it, from the
 * same metadata: valid, it is itself and CN; else itself. libphonenumber
 * makes a RegExp from each pattern's text on every call (concatenating and
 * hashing texts of hundreds of characters): about 15 µs and several KB for
 * each member of every sync, where these, built once, take under 1 µs. Undefined for any other
 * number, and when the metadata does not have the shape this reads (the fast
 * path is off, the library answers). A test holds the two to the same answers.
 */
export const mainlandMobile: ((compact: string) => CasdoorPhone | undefined) | undefined = fastPath(readRules(DEFAULT_REGION));

function fastPath(rules: RegionRules | undefined): ((compact: string) => CasdoorPhone | undefined) | undefined {
  if (!rules) return undefined;
  return (compact) => {
    if (!MAINLAND_SHAPE.test(compact) || rules.prefixForParsing.test(compact) || rules.iddPrefix.test(compact)) return undefined;
    return isValid(compact, rules) ? { phone: compact, countryCode: DEFAULT_REGION } : { phone: compact };
  };
}

const MAINLAND_SHAPE = /^1\d{10}$/;

/** libphonenumber's check: the general pattern, then any type whose lengths allow the number and whose pattern matches it. */
function isValid(national: string, rules: RegionRules): boolean {
  if (!rules.general.test(national)) return false;
  return rules.types.some((type) => (type.lengths === undefined || type.lengths.includes(national.length)) && type.pattern.test(national));
}

/** The numbering plan's patterns as RegExps; undefined when the metadata lacks one (a library upgrade changed its shape). */
function readRules(region: string): RegionRules | undefined {
  try {
    const metadata = new Metadata() as unknown as { selectNumberingPlan(region: string): void; numberingPlan?: PlanInternals };
    metadata.selectNumberingPlan(region);
    const plan = metadata.numberingPlan;
    const prefix = plan?.nationalPrefixForParsing();
    const idd = plan?.IDDPrefix();
    const general = plan?.nationalNumberPattern();
    if (!plan || !nonEmpty(prefix) || !nonEmpty(idd) || !nonEmpty(general)) return undefined;
    const types: Array<{ pattern: RegExp; lengths?: readonly number[] }> = [];
    for (const name of NUMBER_TYPES) {
      const type = plan.type(name);
      const pattern = type?.pattern();
      if (!type || !pattern) continue;
      const lengths = type.possibleLengths();
      types.push({ pattern: entire(pattern), ...(Array.isArray(lengths) && { lengths }) });
    }
    if (types.length === 0) return undefined;
    return { prefixForParsing: new RegExp(`^(?:${prefix})`), iddPrefix: new RegExp(`^(?:${idd})`), general: entire(general), types };
  } catch {
    return undefined;
  }
}

/** What the library's numbering plan answers, beyond its typed surface. */
interface PlanInternals {
  IDDPrefix(): string | undefined;
  nationalPrefixForParsing(): string | undefined;
  nationalNumberPattern(): string | undefined;
  type(name: string): { pattern(): string | undefined; possibleLengths(): number[] | undefined } | undefined;
}

function nonEmpty(text: string | undefined): text is string {
  return typeof text === 'string' && text !== '';
}

function entire(pattern: string): RegExp {
  return new RegExp(`^(?:${pattern})$`);
}
