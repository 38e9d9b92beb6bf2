import { parsePhoneNumberFromString } from 'libphonenumber-js/max';

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
  const parsed = parsePhoneNumberFromString(compact, DEFAULT_REGION);
  if (!parsed?.isValid() || !parsed.country) return { phone: compact };
  return { phone: parsed.nationalNumber, countryCode: parsed.country };
}
