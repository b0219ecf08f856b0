import { accessSync, constants } from 'node:fs';
import path from 'node:path';

/** A program the stack runs, and how to get it. */
interface Requirement {
  program: string;
  hint: string;
}

const REQUIREMENTS: Requirement[] = [
  { program: 'redis-server', hint: 'Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis' },
  { program: 'redis-cli', hint: 'Debian/Ubuntu: apt-get install redis-tools (comes with redis-server)' },
  { program: 'nginx', hint: 'Debian/Ubuntu: apt-get install nginx (its service need not run)' },
  { program: 'unshare', hint: 'util-linux (Linux only): apt-get install util-linux' },
  { program: 'mount', hint: 'util-linux (Linux only): apt-get install mount' },
];

/** PATH plus the sbin directories: Debian installs nginx in /usr/sbin, which a non-login PATH may lack. */
export const defaultSearchPath = () => [process.env.PATH ?? '', '/usr/local/sbin', '/usr/sbin', '/sbin'].join(path.delimiter);

export function findProgram(program: string, searchPath = defaultSearchPath()): string | undefined {
  for (const dir of searchPath.split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, program);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/**
 * Everything missing, in one message, so a user installs it all at once.
 * The private /etc/hosts needs a mount namespace, which needs root on Linux.
 */
export function missingRequirements(searchPath = defaultSearchPath()): string[] {
  const problems: string[] = [];
  if (process.platform !== 'linux') {
    problems.push('npm run stack runs on Linux only (it uses a private mount namespace); use `docker compose up` elsewhere.');
    return problems;
  }
  for (const { program, hint } of REQUIREMENTS) {
    if (!findProgram(program, searchPath)) problems.push(`${program} not found on PATH. ${hint}`);
  }
  if (process.getuid?.() !== 0) {
    problems.push('npm run stack needs root (a private /etc/hosts via `unshare -m`): run it with sudo, or use `docker compose up`.');
  }
  return problems;
}
