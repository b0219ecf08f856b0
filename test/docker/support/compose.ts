/**
 * One docker compose project on the test engine: the generated project's
 * directory, run under an explicit project name, with helpers to find its
 * containers, wait for health, kill or stop them and read their state.
 *
 * The compose command is `docker compose` (v2) when the docker CLI has it,
 * else Debian's `docker-compose` 1.29; the generated file works with both.
 */
import { execa } from 'execa';
import { docker, dockerOk, engineEnv, type EngineInfo, type RunResult } from './engine.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

let composeCommand: Promise<string[]> | undefined;

/** ['docker', 'compose'] or ['docker-compose'], whichever this machine has (v2 preferred). */
export function detectComposeCommand(engine: EngineInfo): Promise<string[]> {
  composeCommand ??= (async () => {
    const v2 = await execa('docker', ['compose', 'version'], { env: engineEnv(engine), extendEnv: false, reject: false, stdin: 'ignore' });
    if (v2.exitCode === 0) return ['docker', 'compose'];
    const v1 = await execa('docker-compose', ['version'], { env: engineEnv(engine), extendEnv: false, reject: false, stdin: 'ignore' });
    if (v1.exitCode === 0) return ['docker-compose'];
    throw new Error('neither `docker compose` nor `docker-compose` works here (Debian: apt-get install docker-compose)');
  })();
  return composeCommand;
}

/** The parts of `docker inspect` the tests read. */
export interface ContainerState {
  Id: string;
  Name: string;
  Config: { User: string; Env: string[]; Image: string; Labels: Record<string, string>; Healthcheck?: { Test: string[] } };
  State: {
    Status: string;
    Running: boolean;
    ExitCode: number;
    Pid: number;
    StartedAt: string;
    FinishedAt: string;
    Health?: { Status: string; Log: Array<{ ExitCode: number; Output: string }> };
  };
  RestartCount: number;
  HostConfig: { RestartPolicy: { Name: string } };
}

export class ComposeProject {
  constructor(
    readonly engine: EngineInfo,
    /** The generated project's directory: docker-compose.yml and .env are read from there. */
    readonly dir: string,
    /** The compose project name (-p); container labels carry it. */
    readonly name: string,
  ) {}

  /** A compose command in the project directory; the environment has nothing but PATH, HOME and DOCKER_HOST. */
  async run(args: string[], options: { timeoutMs?: number } = {}): Promise<RunResult> {
    const [program, ...prefix] = await detectComposeCommand(this.engine);
    const result = await execa(program!, [...prefix, '-p', this.name, ...args], {
      cwd: this.dir,
      env: engineEnv(this.engine),
      extendEnv: false,
      reject: false,
      all: true,
      stdin: 'ignore',
      timeout: options.timeoutMs ?? 600_000,
    });
    return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr), all: String(result.all) };
  }

  /** Like run(), but a non-zero exit is an error with the command's output. */
  async ok(args: string[], options: { timeoutMs?: number } = {}): Promise<string> {
    const result = await this.run(args, options);
    if (result.exitCode !== 0) throw new Error(`compose ${args.join(' ')} failed (exit ${result.exitCode}):\n${result.all.slice(-6_000)}`);
    return result.all;
  }

  /** The container ids of a service (any state), by compose's labels. */
  async containerIds(service: string): Promise<string[]> {
    const out = await dockerOk(this.engine, [
      'ps',
      '-a',
      '-q',
      '--no-trunc',
      '--filter',
      `label=com.docker.compose.project=${this.name}`,
      '--filter',
      `label=com.docker.compose.service=${service}`,
    ]);
    return out.split('\n').filter(Boolean);
  }

  /** The one container of a service. */
  async containerId(service: string): Promise<string> {
    const ids = await this.containerIds(service);
    if (ids.length !== 1) throw new Error(`expected one container for service ${service}, found ${ids.length}`);
    return ids[0]!;
  }

  async inspect(service: string): Promise<ContainerState> {
    const [state] = JSON.parse(await dockerOk(this.engine, ['inspect', await this.containerId(service)])) as ContainerState[];
    return state!;
  }

  /** Every service of the project's containers, running or not. */
  async services(): Promise<string[]> {
    const out = await dockerOk(this.engine, [
      'ps',
      '-a',
      '--filter',
      `label=com.docker.compose.project=${this.name}`,
      '--format',
      '{{.Label "com.docker.compose.service"}}',
    ]);
    return [...new Set(out.split('\n').filter(Boolean))].sort();
  }

  /** Waits until each service's container reports `healthy`; throws with the states seen at the deadline. */
  async waitHealthy(services: string[], timeoutMs = 120_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const states = await Promise.all(services.map(async (service) => [service, (await this.inspect(service)).State] as const));
      const waiting = states.filter(([, state]) => state.Health?.Status !== 'healthy');
      if (waiting.length === 0) return;
      if (Date.now() > deadline) {
        throw new Error(
          `not healthy after ${timeoutMs} ms: ${waiting.map(([service, state]) => `${service}=${state.Status}/${state.Health?.Status ?? 'no healthcheck'}`).join(', ')}`,
        );
      }
      await sleep(500);
    }
  }

  /** Waits until a service's container is no longer running (after a kill or stop). */
  async waitExited(service: string, timeoutMs = 60_000): Promise<ContainerState> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const state = await this.inspect(service);
      if (!state.State.Running) return state;
      if (Date.now() > deadline) throw new Error(`${service} still running after ${timeoutMs} ms`);
      await sleep(100);
    }
  }

  /** `docker kill` (SIGKILL) of a service's container. */
  async kill(service: string): Promise<void> {
    await dockerOk(this.engine, ['kill', await this.containerId(service)]);
  }

  /** Runs a command in a service's running container. */
  async exec(service: string, command: string[], options: { timeoutMs?: number } = {}): Promise<RunResult> {
    return docker(this.engine, ['exec', await this.containerId(service), ...command], options);
  }

  async logs(service: string): Promise<string> {
    return (await docker(this.engine, ['logs', await this.containerId(service)])).all;
  }

  /** Removes the project's containers, networks and volumes (the run's end, also after a failure). */
  async down(): Promise<void> {
    await this.run(['down', '--volumes', '--remove-orphans', '--timeout', '5'], { timeoutMs: 180_000 });
  }
}
