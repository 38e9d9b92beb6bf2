import { parseArgs } from 'node:util';
import { startSimulator } from './server.ts';

/**
 * `npm run simulator -- --port N [--scenario FILE] [--host H]`: runs the WeCom simulator
 * until SIGINT or SIGTERM, after printing URL=, CORP_ID=, CORP_SECRET=, CONTACTS_SECRET=.
 */
const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
    scenario: { type: 'string' },
  },
});
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write(`--port must be 0 to 65535, not ${values.port}\n`);
  process.exit(2);
}
const sim = await startSimulator({
  port,
  host: values.host,
  ...(values.scenario !== undefined && { scenarioFile: values.scenario }),
});
process.stdout.write(`URL=${sim.url}\nCORP_ID=${sim.corpId}\nCORP_SECRET=${sim.corpSecret}\nCONTACTS_SECRET=${sim.contactsSecret}\n`);
const stop = () => {
  sim.close().then(() => process.exit(0), () => process.exit(1));
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
