/** What a Redis server spends: its CPU time (from /proc) and the commands it ran (INFO commandstats). */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';

let ticksPerSecond: number | undefined;

/** CPU time (user + system) of a process so far, in ns. Linux only. */
export function processCpuNs(pid: number): number {
  ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const userTicks = Number(fields[11]);
  const systemTicks = Number(fields[12]);
  return ((userTicks + systemTicks) / ticksPerSecond) * 1e9;
}

export interface CommandCounts {
  /** Every command run, those run inside scripts included (INFO excluded). */
  commands: number;
  /** Script calls (EVAL, EVALSHA and their _RO forms): the round trips of a script-based limiter. */
  scripts: number;
}

/** Commands the server has run so far (INFO commandstats). */
export async function commandsRun(admin: Redis): Promise<CommandCounts> {
  const info = await admin.info('commandstats');
  const counts: CommandCounts = { commands: 0, scripts: 0 };
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    const name = match[1]!;
    if (name === 'info') continue;
    counts.commands += Number(match[2]);
    if (/^eval(sha)?(_ro)?$/.test(name)) counts.scripts += Number(match[2]);
  }
  return counts;
}
