/**
 * `meridian mrap set <name> [--read-fallback | --no-read-fallback] [--auto-promote | --no-auto-promote]`
 * and `meridian mrap show <name>`: Meridian's opt-in routing options of a Multi-Region Access
 * Point, beyond what AWS offers, kept with its definition in the world's catalog.
 */
import { join } from 'node:path';
import { LmdbCatalog, type MrapOptions, type MrapRecord } from '../catalog/catalog.ts';
import { ConfigError } from '../core/config.ts';

function describe(m: MrapRecord): string {
  const routes = m.regions
    .map((r) => `    ${r.region.padEnd(16)} ${r.bucket.padEnd(24)} ${r.trafficDialPercentage === 100 ? 'active' : 'passive'}`)
    .join('\n');
  return [
    `${m.name} (${m.alias}, ${m.status})`,
    routes,
    `  read fallback:       ${m.options?.readFallback ? 'on' : 'off'}`,
    `  automatic promotion: ${m.options?.autoPromote ? 'on' : 'off'}`,
    '',
  ].join('\n');
}

export async function mrapCommand(
  args: string[],
  opts: { dataDir: string; account: string; set: MrapOptions; out: (text: string) => void },
): Promise<number> {
  const [what, name] = args;
  if (!name) throw new ConfigError(`mrap ${what ?? ''} needs the access point's name`);
  const catalog = new LmdbCatalog({ path: join(opts.dataDir, 'catalog'), regions: [], keys: [] });
  try {
    if (what === 'show') {
      const m = catalog.mrap(opts.account, name);
      if (!m) throw new ConfigError(`no Multi-Region Access Point '${name}' in account ${opts.account}`);
      opts.out(describe(m));
      return 0;
    }
    if (what === 'set') {
      const updated = await catalog.updateMrap(opts.account, name, (m) => ({ ...m, options: { ...m.options, ...opts.set } }));
      if (!updated) throw new ConfigError(`no Multi-Region Access Point '${name}' in account ${opts.account}`);
      opts.out(describe(updated));
      return 0;
    }
    throw new ConfigError(`unknown mrap command '${what ?? ''}' (set, show)`);
  } finally {
    await catalog.close();
  }
}
