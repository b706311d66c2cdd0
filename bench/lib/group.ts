/** What a benchmark group is: a program run by bench/run.ts that measures and returns rows and goals. */
import type { Goal, Row } from './report.js';

export interface GroupContext {
  /** A short smoke run: tiny counts and durations, figures not representative. */
  quick: boolean;
  /** Rounds of rotation (at least 5 in a full run). */
  rounds: number;
  log(line: string): void;
}

export interface GroupOutput {
  title: string;
  rows: Row[];
  goals: Goal[];
  notes: string[];
}

export interface BenchGroup {
  readonly name: string;
  run(context: GroupContext): Promise<GroupOutput>;
}

/** Picks the full-run or the quick-run value of a setting. */
export const pick = <T>(context: GroupContext, full: T, quick: T): T => (context.quick ? quick : full);
