/**
 * A target's memory over one phase of a scenario (the harness's own sampler covers the whole
 * scenario, set-up included). Reads VmRSS and RssAnon from /proc/<pid>/status: RssAnon is heap
 * and other private memory, so it is the figure that grows if a server pulls a bucket's index
 * into memory; file-backed pages (a memory-mapped database being read) show up in VmRSS only.
 */
import { readFile } from 'node:fs/promises';
import { kbToMb } from './rss.ts';

export interface RssWindowResult {
  /** At `start()`. */
  startRssMb: number;
  startAnonMb: number;
  peakRssMb: number;
  peakAnonMb: number;
  samples: number;
}

async function read(pid: number): Promise<{ rssKb: number; anonKb: number } | undefined> {
  let text: string;
  try {
    text = await readFile(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
  const rssKb = field('VmRSS');
  return Number.isFinite(rssKb) ? { rssKb, anonKb: field('RssAnon') } : undefined;
}

export class RssWindow {
  private start0: { rssKb: number; anonKb: number } | undefined;
  private peakRssKb = 0;
  private peakAnonKb = 0;
  private samples = 0;
  private timer: NodeJS.Timeout | undefined;
  private pending: Promise<void> = Promise.resolve();

  constructor(
    private readonly pid: number,
    private readonly intervalMs = 50,
  ) {}

  async start(): Promise<void> {
    this.start0 = await read(this.pid);
    await this.sample();
    this.timer = setInterval(() => {
      this.pending = this.sample();
    }, this.intervalMs);
  }

  /** Undefined where /proc cannot be read (not Linux, or the process is gone). */
  async stop(): Promise<RssWindowResult | undefined> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.pending;
    await this.sample();
    if (!this.start0 || this.samples === 0) return undefined;
    return {
      startRssMb: kbToMb(this.start0.rssKb),
      startAnonMb: kbToMb(this.start0.anonKb),
      peakRssMb: kbToMb(this.peakRssKb),
      peakAnonMb: kbToMb(this.peakAnonKb),
      samples: this.samples,
    };
  }

  private async sample(): Promise<void> {
    const r = await read(this.pid);
    if (!r) return;
    this.samples++;
    this.peakRssKb = Math.max(this.peakRssKb, r.rssKb);
    if (Number.isFinite(r.anonKb)) this.peakAnonKb = Math.max(this.peakAnonKb, r.anonKb);
  }
}
