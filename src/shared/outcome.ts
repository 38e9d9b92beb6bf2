/** A reconcile that failed, as both reconcilers report it: the reason, a sentence, and what it means for the conditions. */
export interface FailedOutcome {
  kind: 'failed';
  reason: string;
  message: string;
  /** Nothing improves until a human acts. */
  stalled: boolean;
  /** How the failure bears on the Connected condition: false = the connection test failed. */
  connected: boolean | 'unknown' | 'unchanged';
  /** Stalled on credentials: the salted digest of the inputs that failed. */
  failedInputsDigest?: string;
}
