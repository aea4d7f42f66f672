/**
 * `meridian keys create --account A [--user U]`, `keys list [--account A]`,
 * `keys disable|enable|delete ID`: access keys kept in the world's catalog, so they work in
 * every region at once. A new key's secret is shown once, when it is created.
 */
import { join } from 'node:path';
import { LmdbCatalog } from '../catalog/catalog.ts';
import { ConfigError } from '../core/config.ts';

export async function keysCommand(
  args: string[],
  opts: {
    dataDir: string;
    account?: string;
    user?: string;
    json: boolean;
    /** the keys the world's configuration defines (root and accounts' users) */
    configKeys: { accessKeyId: string; secretAccessKey: string; accountId: string; user?: string }[];
    out: (text: string) => void;
  },
): Promise<number> {
  const [what, id] = args;
  const catalog = new LmdbCatalog({ path: join(opts.dataDir, 'catalog'), regions: [], keys: opts.configKeys });
  try {
    switch (what) {
      case 'create': {
        if (!opts.account || !/^\d{12}$/.test(opts.account)) throw new ConfigError('keys create needs --account with a 12-digit id');
        const key = await catalog.createAccessKey({ accountId: opts.account, user: opts.user });
        if (opts.json) {
          opts.out(JSON.stringify(key) + '\n');
        } else {
          opts.out(
            [
              `Access key for ${opts.user ? `user ${opts.user} of ` : ''}account ${key.accountId}:`,
              `  Access key id:     ${key.accessKeyId}`,
              `  Secret access key: ${key.secretAccessKey}`,
              'The secret is not shown again.',
              '',
            ].join('\n'),
          );
        }
        return 0;
      }
      case 'list': {
        const keys = catalog.listAccessKeys(opts.account).map((k) => ({
          accessKeyId: k.accessKeyId,
          accountId: k.accountId,
          user: k.user ?? '(root)',
          status: k.status ?? 'Active',
          source: k.createdAt === undefined ? 'config' : 'catalog',
        }));
        if (opts.json) {
          opts.out(JSON.stringify(keys) + '\n');
          return 0;
        }
        const header = ['ACCESS KEY ID', 'ACCOUNT', 'USER', 'STATUS', 'SOURCE'];
        const rows = keys.map((k) => [k.accessKeyId, k.accountId, k.user, k.status, k.source]);
        const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
        opts.out([header, ...rows].map((r) => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()).join('\n') + '\n');
        return 0;
      }
      case 'disable':
      case 'enable':
      case 'delete': {
        if (!id) throw new ConfigError(`keys ${what} needs an access key id`);
        const done =
          what === 'delete'
            ? await catalog.deleteAccessKey(id)
            : await catalog.setAccessKeyStatus(id, what === 'disable' ? 'Inactive' : 'Active');
        if (!done) throw new ConfigError(`no key ${id} in the catalog (keys from the config file change there)`);
        opts.out(`${id}: ${what === 'delete' ? 'deleted' : what === 'disable' ? 'disabled' : 'enabled'}\n`);
        return 0;
      }
      default:
        throw new ConfigError(`unknown keys command '${what ?? ''}' (create, list, disable, enable, delete)`);
    }
  } finally {
    await catalog.close();
  }
}
