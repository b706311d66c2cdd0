/**
 * Sends commands on a user's ioredis client with three guarantees a limiter needs:
 * - an answer (or a StoreUnavailableError) within the timeout, whatever the client's own options are;
 * - a command whose caller was already answered (timed out) is never executed later: if ioredis writes it after
 *   the fact (its offline queue, or its resend of unanswered commands after a reconnect), it goes out as a PING;
 * - Lua scripts go out as EVALSHA, as EVAL the first time on each connection, and again as EVAL after NOSCRIPT
 *   (SCRIPT FLUSH, a restarted server), the same way ioredis `defineCommand` does.
 * While a client that has been ready is reconnecting, calls fail at once instead of waiting for the timeout.
 */
import { Command } from 'ioredis';
import type { Cluster, Redis } from 'ioredis';
import { performance } from 'node:perf_hooks';
import { StoreUnavailableError } from '../errors.js';
import type { StoreInstruments } from '../metrics/store-metrics.js';

export type RedisClient = Redis | Cluster;

/** A Lua script with its SHA1; remembers which connections have it loaded. */
export class LuaScript {
  readonly loadedOn = new WeakSet<object>();
  constructor(
    readonly lua: string,
    readonly sha1: string,
  ) {}
}

interface Attempt {
  /** Set once the caller has been answered: a later write of the command must not run it. */
  abandoned: boolean;
}

type Argument = string | number | Buffer;

class GuardedCommand extends Command {
  private socket: object | undefined;
  private rejectWrapped = false;

  constructor(
    name: string,
    args: Argument[],
    keyPrefix: string | undefined,
    private readonly attempt: Attempt,
    private readonly script: LuaScript | undefined,
  ) {
    super(name, args, keyPrefix ? { keyPrefix, replyEncoding: 'utf8' } : { replyEncoding: 'utf8' });
  }

  override toWritable(socket: object): string | Buffer {
    if (this.attempt.abandoned) {
      this.name = 'ping';
      this.args = [];
    } else if (this.script) {
      this.socket = socket;
      this.wrapReject();
      if (!this.script.loadedOn.has(socket)) {
        this.script.loadedOn.add(socket);
        this.name = 'eval';
        this.args[0] = this.script.lua;
      } else if (this.name === 'eval') {
        this.name = 'evalsha';
        this.args[0] = this.script.sha1;
      }
    }
    return super.toWritable(socket);
  }

  /** On NOSCRIPT the connection no longer has the script: the next command on it must carry the text. */
  private wrapReject(): void {
    if (this.rejectWrapped) return;
    this.rejectWrapped = true;
    const reject = this.reject;
    this.reject = (error: Error) => {
      if (this.script && this.socket && isNoScript(error)) this.script.loadedOn.delete(this.socket);
      reject.call(this, error);
    };
  }
}

function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}

/** Reply errors that mean "the server cannot serve now", as opposed to "this command is wrong". */
const UNAVAILABLE_REPLIES = /^(LOADING|BUSY|CLUSTERDOWN|MASTERDOWN|READONLY|OOM|TRYAGAIN|NOREPLICAS|MISCONF|ERR max number of clients)/;

/** True when an error means Redis is unreachable or not serving (as opposed to a wrong command). */
export function isOutage(error: unknown): boolean {
  if (!(error instanceof Error)) return true;
  if (error.name !== 'ReplyError') return true;
  return UNAVAILABLE_REPLIES.test(error.message);
}

/** Statuses in which a client that has never been ready may still be given a command (its first connect). */
const CONNECTING = new Set(['wait', 'connecting', 'connect']);
const MAX_NOSCRIPT_RETRIES = 3;

export class CommandRunner {
  private seenReady = false;

  constructor(
    private readonly client: RedisClient,
    private readonly timeoutMs: number,
    /** Told after every call whether Redis answered (true) or is out (false, with the cause). */
    private readonly onHealth: (answered: boolean, cause?: unknown) => void,
    /** Records each round trip's time and outcome (see docs/metrics.md). */
    private readonly instruments?: StoreInstruments,
  ) {}

  /**
   * Runs one command. Resolves with the reply; rejects with StoreUnavailableError (its `cause` is the original
   * error: a timeout, a connection error, or a ReplyError). Never leaves a rejection unhandled.
   */
  run(name: string, args: Argument[], script?: LuaScript): Promise<any> {
    const status = this.client.status;
    if (status === 'ready') {
      this.seenReady = true;
    } else if (this.seenReady || !CONNECTING.has(status)) {
      const error = new StoreUnavailableError(`Redis is not connected (client status "${status}")`);
      this.instruments?.error();
      this.onHealth(false, error);
      return Promise.reject(error);
    }
    const startMs = this.instruments ? performance.now() : 0;
    return new Promise((resolve, reject) => {
      const attempt: Attempt = { abandoned: false };
      const fail = (cause: unknown, message: string): void => {
        if (attempt.abandoned) return;
        attempt.abandoned = true;
        clearTimeout(timer);
        this.instruments?.roundTrip((performance.now() - startMs) / 1000, true);
        if (isOutage(cause)) this.onHealth(false, cause);
        else this.onHealth(true);
        reject(new StoreUnavailableError(message, { cause }));
      };
      const timer = setTimeout(() => {
        fail(new Error(`Redis did not answer within ${this.timeoutMs} ms`), `Redis did not answer within ${this.timeoutMs} ms`);
      }, this.timeoutMs);
      const keyPrefix = (this.client.options as { keyPrefix?: string } | undefined)?.keyPrefix;
      const send = (retriesLeft: number): void => {
        const command = new GuardedCommand(name, args, keyPrefix, attempt, script);
        command.promise.then(
          (reply: unknown) => {
            if (attempt.abandoned) return;
            attempt.abandoned = true;
            clearTimeout(timer);
            this.instruments?.roundTrip((performance.now() - startMs) / 1000);
            this.onHealth(true);
            resolve(reply);
          },
          (error: unknown) => {
            if (attempt.abandoned) return;
            if (script && isNoScript(error) && retriesLeft > 0) return send(retriesLeft - 1);
            fail(error, `Redis ${name} failed: ${error instanceof Error ? error.message : String(error)}`);
          },
        );
        try {
          this.client.sendCommand(command);
        } catch (error) {
          fail(error, `Redis ${name} could not be sent: ${error instanceof Error ? error.message : String(error)}`);
        }
      };
      send(MAX_NOSCRIPT_RETRIES);
    });
  }
}
