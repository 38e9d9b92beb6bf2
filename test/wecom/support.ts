import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';
import { WeComClient, type WeComClientOptions } from '../../src/wecom/client.ts';
import type { Simulator } from '../support/simulator/server.ts';

/** A client of the simulator whose retries wait for nothing, recording the waits asked for. */
export function clientFor(
  sim: Simulator,
  overrides: Partial<WeComClientOptions> & { contacts?: boolean } = {},
): { client: WeComClient; sleeps: number[] } {
  const sleeps: number[] = [];
  const { contacts, ...rest } = overrides;
  const client = new WeComClient({
    apiURL: sim.url,
    corpId: sim.corpId,
    secret: contacts ? sim.contactsSecret : sim.corpSecret,
    timeoutMs: 2_000,
    ...rest,
    retry: {
      sleep: async (ms) => {
        sleeps.push(ms);
      },
      random: () => 0.5,
      ...rest.retry,
    },
  });
  return { client, sleeps };
}

/** A pino logger at trace level writing into a string, to scan what was logged. */
export function capturedLogger(): { logger: Logger; output: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  });
  return { logger: pino({ level: 'trace' }, stream), output: () => chunks.join('') };
}

/** The rejection of a promise, or a failure when it resolves. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}
