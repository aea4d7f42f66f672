/**
 * A strict parser of the Prometheus text exposition format (0.0.4), for tests: every sample
 * must belong to a family declared by `# TYPE` (histograms through `_bucket`, `_sum` and
 * `_count`), label values are unescaped, and no series may appear twice.
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  type: string;
  help?: string;
  samples: Sample[];
}

export function parsePrometheus(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const seen = new Set<string>();
  for (const [i, line] of text.split('\n').entries()) {
    if (line.trim() === '') continue;
    const where = `line ${i + 1}: ${line}`;
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (meta) {
      const f = families.get(meta[2]) ?? { name: meta[2], type: 'untyped', samples: [] };
      if (meta[1] === 'TYPE') {
        if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(meta[3])) throw new Error(`bad type, ${where}`);
        f.type = meta[3];
      } else {
        f.help = meta[3];
      }
      families.set(meta[2], f);
      continue;
    }
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: \d+)?$/.exec(line);
    if (!m) throw new Error(`not a sample, ${where}`);
    const [, name, rawLabels, rawValue] = m;
    const labels: Record<string, string> = {};
    if (rawLabels) {
      const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/gy;
      let consumed = 0;
      for (let lm = re.exec(rawLabels); lm; lm = re.exec(rawLabels)) {
        labels[lm[1]] = lm[2].replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
        consumed = re.lastIndex;
        if (lm[3] === '') break;
      }
      if (consumed !== rawLabels.length) throw new Error(`bad labels, ${where}`);
    }
    // As Prometheus (Go's ParseFloat): NaN and Inf in any case.
    const special = rawValue.toLowerCase();
    const value = special === 'nan' ? NaN : special === '+inf' || special === 'inf' ? Infinity : special === '-inf' ? -Infinity : Number(rawValue);
    if (Number.isNaN(value) && special !== 'nan') throw new Error(`bad value, ${where}`);
    const family =
      families.get(name) ??
      [...families.values()].find(
        (f) => (f.type === 'histogram' || f.type === 'summary') && /_(bucket|sum|count)$/.test(name) && name.replace(/_(bucket|sum|count)$/, '') === f.name,
      );
    if (!family) throw new Error(`sample of an undeclared family, ${where}`);
    const id = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    if (seen.has(id)) throw new Error(`duplicate series, ${where}`);
    seen.add(id);
    family.samples.push({ name, labels, value });
  }
  return families;
}

/** The samples named `name` whose labels include `labels`. */
export function samples(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): Sample[] {
  const base = name.replace(/_(bucket|sum|count)$/, '');
  const family = families.get(name) ?? families.get(base);
  return (family?.samples ?? []).filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
}

/** The one sample named `name` with exactly these labels (besides `le`), or undefined. */
export function value(families: Map<string, Family>, name: string, labels: Record<string, string>): number | undefined {
  const found = samples(families, name, labels).filter((s) => Object.keys(s.labels).length === Object.keys(labels).length);
  if (found.length > 1) throw new Error(`${name} ${JSON.stringify(labels)} matches ${found.length} series`);
  return found[0]?.value;
}
