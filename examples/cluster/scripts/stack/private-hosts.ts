/**
 * Runs a command in its own mount namespace with `hostsFile` bind-mounted
 * over /etc/hosts: the command and everything it starts resolve the compose
 * hostnames (app1, redis-1, ...) while the rest of the machine sees nothing.
 * Returns [program, args] for spawn().
 */
export function inPrivateHosts(hostsFile: string, command: string, args: string[]): [string, string[]] {
  // util-linux's unshare makes the new namespace's mounts private, so the
  // bind mount never leaks to the host. `exec` keeps the command's pid.
  const script = 'mount --bind "$0" /etc/hosts && exec "$@"';
  return ['unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script, hostsFile, command, ...args]];
}
