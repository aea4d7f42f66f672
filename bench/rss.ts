/**
 * Resident memory of a target process, from /proc/<pid>/status (Linux only; elsewhere the
 * figures are simply missing).
 *
 * A scenario's peak is the larger of two readings: VmHWM after resetting it through
 * /proc/<pid>/clear_refs (exact, but the reset needs Linux >= 4.0 and permission), and the
 * highest VmRSS seen by sampling every 100 ms (always available, may miss a short spike).
 */
import { readFile, writeFile } from 'node:fs/promises';

export interface RssReading {
  rssKb: number;
  hwmKb: number;
}

export async function readRss(pid: number): Promise<RssReading | undefined> {
  let text: string;
  try {
    text = await readFile(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const field = (name: string): number => {
    const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text);
    return m ? Number(m[1]) : NaN;
  };
  const rssKb = field('VmRSS');
  const hwmKb = field('VmHWM');
  return Number.isFinite(rssKb) ? { rssKb, hwmKb } : undefined;
}

/** Resets VmHWM to the current RSS. Returns false where the kernel or permissions refuse. */
export async function resetPeakRss(pid: number): Promise<boolean> {
  try {
    await writeFile(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

export function kbToMb(kb: number): number {
  return Math.round((kb / 1024) * 10) / 10;
}

export class RssSampler {
  private peakKb = 0;
  private samples = 0;
  private hwmReset = false;
  private timer: NodeJS.Timeout | undefined;
  private pending: Promise<void> = Promise.resolve();

  constructor(
    private readonly pid: number,
    private readonly intervalMs = 100,
  ) {}

  async start(): Promise<void> {
    this.hwmReset = await resetPeakRss(this.pid);
    await this.sample();
    this.timer = setInterval(() => {
      this.pending = this.sample();
    }, this.intervalMs);
  }

  /** Stops sampling and returns the peak in MB, or undefined when nothing could be read. */
  async stop(): Promise<number | undefined> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.pending;
    const last = await readRss(this.pid);
    if (last) {
      this.samples++;
      this.peakKb = Math.max(this.peakKb, last.rssKb);
      if (this.hwmReset && Number.isFinite(last.hwmKb)) {
        this.peakKb = Math.max(this.peakKb, last.hwmKb);
      }
    }
    return this.samples > 0 ? kbToMb(this.peakKb) : undefined;
  }

  private async sample(): Promise<void> {
    const r = await readRss(this.pid);
    if (!r) return;
    this.samples++;
    if (r.rssKb > this.peakKb) this.peakKb = r.rssKb;
  }
}
