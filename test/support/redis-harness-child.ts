/**
 * Starts a redis-server with the harness, prints its PID, then dies the way a failing test run can: an uncaught
 * exception (argv[2] = "throw"), process.exit(1) ("exit") or SIGTERM ("signal"), without stopping the server.
 */
import { startRedis } from './redis.js';

const server = await startRedis();
process.stdout.write(`${server.pid}\n`);
if (process.argv[2] === 'throw') throw new Error('test failed');
if (process.argv[2] === 'signal') process.kill(process.pid, 'SIGTERM');
else process.exit(1);
