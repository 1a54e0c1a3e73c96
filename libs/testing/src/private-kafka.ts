import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { freePorts } from './spawn-service.js';

const run = promisify(execFile);
const KAFKA_SH = fileURLToPath(new URL('../../../deploy/local/kafka.sh', import.meta.url));

export interface PrivateKafka {
  brokers: string;
  /** `kill -9` of the broker's JVM: no clean shutdown, whatever is in flight is cut. */
  kill(): Promise<void>;
  /** Starts the broker again on the same data and port; resolves once it accepts connections. */
  restart(): Promise<void>;
  /** Stops the broker and deletes its data. */
  destroy(): Promise<void>;
}

/**
 * A single-node KRaft broker of its own for a test that kills its broker: same jars and script as
 * the local stack (deploy/local/kafka.sh), its own ports and data folder, so the shared stack that
 * every other test uses never sees the fault.
 */
export async function startPrivateKafka(): Promise<PrivateKafka> {
  const dir = await mkdtemp(join(tmpdir(), 'sps-kafka-'));
  const [port, controllerPort] = (await freePorts(2)) as [number, number];
  const env = {
    ...process.env,
    SPS_STACK_DIR: dir,
    SPS_KAFKA_PORT: String(port),
    SPS_KAFKA_CONTROLLER_PORT: String(controllerPort),
  };
  const script = (command: string) => run('bash', [KAFKA_SH, command], { env, timeout: 120_000 });
  await script('start');
  const pidFile = join(dir, 'kafka', 'kafka.pid');
  return {
    brokers: `127.0.0.1:${port}`,
    async kill() {
      const pid = Number((await readFile(pidFile, 'utf8')).trim());
      process.kill(pid, 'SIGKILL');
      for (let i = 0; i < 100; i++) {
        try {
          process.kill(pid, 0);
          await new Promise((resolve) => setTimeout(resolve, 50));
        } catch {
          break; // gone
        }
      }
      await rm(pidFile, { force: true });
    },
    async restart() {
      await script('start');
    },
    async destroy() {
      await script('stop').catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
