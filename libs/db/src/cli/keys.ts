// npm run keys -- create --tenant acme --name ci [--rate-limit 1000] [--expires-in-days 90]
// npm run keys -- list [--tenant acme]
// npm run keys -- revoke <key-id>
import { parseArgs } from 'node:util';
import { Type } from '@sinclair/typebox';
import { DatabaseConfig, loadConfig } from '@sps/config';
import { createDatabase } from '../database.js';
import { migrateToLatest } from '../migrate.js';
import { createApiKey, listApiKeys, revokeApiKey } from '../repositories/api-keys.js';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    tenant: { type: 'string' },
    name: { type: 'string' },
    'rate-limit': { type: 'string' },
    'expires-in-days': { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});
const [command, id] = positionals;
const config = loadConfig(Type.Object(DatabaseConfig));
const db = createDatabase({ url: config.DATABASE_URL, poolSize: 1, applicationName: 'sps-keys' });

try {
  await migrateToLatest(db);
  if (command === 'create') {
    if (!values.tenant || !values.name) throw new Error('create needs --tenant and --name');
    const days = values['expires-in-days'] ? Number(values['expires-in-days']) : undefined;
    const created = await createApiKey(db, {
      tenant: values.tenant,
      name: values.name,
      rateLimitPerHour: values['rate-limit'] ? Number(values['rate-limit']) : undefined,
      expiresAt: days ? new Date(Date.now() + days * 86_400_000) : undefined,
    });
    if (values.json) console.log(JSON.stringify(created));
    else {
      console.log(`api key (shown once, store it now):   ${created.key}`);
      console.log(`webhook signing secret (shown once):  ${created.webhookSecret}`);
      console.log(`key id: ${created.apiKeyId}  tenant id: ${created.tenantId}`);
    }
  } else if (command === 'list') {
    console.table(await listApiKeys(db, values.tenant));
  } else if (command === 'revoke') {
    if (!id) throw new Error('revoke needs a key id');
    console.log((await revokeApiKey(db, id)) ? `revoked ${id}` : `no active key ${id}`);
  } else {
    throw new Error(
      'usage: keys create --tenant T --name N [--rate-limit R] [--expires-in-days D] | list [--tenant T] | revoke ID',
    );
  }
} catch (error) {
  console.error((error as Error).message);
  process.exitCode = 1;
} finally {
  await db.destroy();
}
