/** Facts about the machine a figure was measured on, printed beside every group of figures. */
import os from 'node:os';

export interface MachineFacts {
  cpuModel: string;
  cores: number;
  node: string;
  platform: string;
  memoryGiB: number;
  /** One-minute load average when the group started: a busy host makes absolute figures noisy. */
  loadAverage: number;
  date: string;
}

export function machineFacts(): MachineFacts {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    loadAverage: Math.round(os.loadavg()[0]! * 100) / 100,
    date: new Date().toISOString(),
  };
}

export function describeMachine(facts: MachineFacts): string {
  return (
    `${facts.cpuModel}, ${facts.cores} cores, ${facts.memoryGiB} GiB, ${facts.platform}, Node ${facts.node}, ` +
    `load average ${facts.loadAverage} at start, ${facts.date.slice(0, 16).replace('T', ' ')} UTC`
  );
}
