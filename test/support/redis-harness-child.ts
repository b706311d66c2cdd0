/**
 * Starts a redis-server with the harness, prints its PID, then dies the way a failing test run can: an uncaught
 * exception (argv[2] = "throw") or process.exit(1) (argv[2] = "exit"), without stopping the server.
 */
import { startRedis } from './redis.js';

const server = await startRedis();
process.stdout.write(`${server.pid}\n`);
if (process.argv[2] === 'throw') throw new Error('test failed');
process.exit(1);
