/**
 * Where Redis is, and how to reach it, read from the environment. Three shapes:
 * - none: no variable set, every adapter uses its in-memory twin (`npm run dev`);
 * - standalone: `REDIS_URL`, or `REDIS_HOST` + `REDIS_PORT`;
 * - cluster: `REDIS_CLUSTER_NODES` (also read as `REDIS_CLUSTER_HOSTS`), `host:port,...`,
 *   with an optional `REDIS_NAT_MAP` (`announced:port=reachable:port,...`) for nodes
 *   that announce addresses the app cannot reach (Docker networks, NAT).
 * Credentials: `REDIS_USERNAME` and `REDIS_PASSWORD` (or `REDIS_PASSWORD_FILE`,
 * a file holding it). TLS: a `rediss://` URL or `REDIS_TLS=true`, with
 * `REDIS_TLS_CA_FILE` (a private CA) and `REDIS_TLS_CERT_FILE` +
 * `REDIS_TLS_KEY_FILE` (a client certificate, when the server asks for one);
 * on a cluster every node connection uses it.
 * No error message ever carries a password: URLs are shown as `redis://user:***@host:port`.
 */
import { readFileSync } from 'node:fs';

export interface HostPort {
  host: string;
  port: number;
}

/** PEM contents for Node's `tls.connect`; an empty object trusts the system CAs and sends no client certificate. */
export interface RedisTls {
  ca?: string;
  cert?: string;
  key?: string;
}

interface Credentials {
  username?: string;
  password?: string;
  tls?: RedisTls;
}

export type RedisSettings =
  | { mode: 'none' }
  | ({ mode: 'standalone'; url: string } & Credentials)
  | ({ mode: 'cluster'; nodes: HostPort[]; natMap?: Record<string, HostPort> } & Credentials);

type RedisVariable =
  | 'URL'
  | 'HOST'
  | 'PORT'
  | 'CLUSTER_NODES'
  | 'CLUSTER_HOSTS'
  | 'NAT_MAP'
  | 'USERNAME'
  | 'PASSWORD'
  | 'PASSWORD_FILE'
  | 'TLS'
  | 'TLS_CA_FILE'
  | 'TLS_CERT_FILE'
  | 'TLS_KEY_FILE';
export type RedisEnv = { [Name in `REDIS_${RedisVariable}`]?: string };

/** Reads a file named by a variable; injectable for tests. */
export type ReadTextFile = (path: string) => string;

const readText: ReadTextFile = (path) => readFileSync(path, 'utf8');

/**
 * `text` with any password masked: `redis://user:pw@host:6379` becomes
 * `redis://user:***@host:6379`, and a user-info with no colon is masked whole
 * (`redis://pw@host` is a password for some clients). Works on text that is
 * not a valid URL too, which is exactly when it gets printed.
 */
export function redactUrl(text: string): string {
  const at = text.lastIndexOf('@');
  if (at < 0) return text;
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(text)?.[0] ?? '';
  const userInfo = text.slice(scheme.length, at);
  const colon = userInfo.indexOf(':');
  const masked = colon >= 0 ? `${userInfo.slice(0, colon)}:***` : '***';
  return `${scheme}${masked}${text.slice(at)}`;
}

export function parseHostPort(text: string, variable: string): HostPort {
  const match = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(text.trim());
  const port = Number(match?.[2]);
  if (!match?.[1] || !(port > 0 && port < 65_536) || match[1].includes('@')) {
    throw new Error(`${variable}: expected host:port, got "${redactUrl(text)}"`);
  }
  return { host: match[1], port };
}

function parseNatMap(text: string): Record<string, HostPort> {
  const map: Record<string, HostPort> = {};
  for (const pair of text.split(',').filter((entry) => entry.trim())) {
    const [announced, reachable] = pair.split('=');
    if (!announced || !reachable) throw new Error(`REDIS_NAT_MAP: expected announced=reachable, got "${redactUrl(pair)}"`);
    const from = parseHostPort(announced, 'REDIS_NAT_MAP');
    map[`${from.host}:${from.port}`] = parseHostPort(reachable, 'REDIS_NAT_MAP');
  }
  return map;
}

function fileOf(variable: string, path: string, readFile: ReadTextFile): string {
  try {
    return readFile(path);
  } catch (error) {
    throw new Error(`${variable}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
}

function readPassword(env: RedisEnv, readFile: ReadTextFile): string | undefined {
  if (!env.REDIS_PASSWORD_FILE) return env.REDIS_PASSWORD || undefined;
  if (env.REDIS_PASSWORD) throw new Error('REDIS_PASSWORD and REDIS_PASSWORD_FILE are both set: keep one');
  // Files written by `echo` or editors end with a newline that is not part of the password.
  const password = fileOf('REDIS_PASSWORD_FILE', env.REDIS_PASSWORD_FILE, readFile).replace(/\r?\n$/, '');
  if (!password) throw new Error(`REDIS_PASSWORD_FILE: ${env.REDIS_PASSWORD_FILE} is empty`);
  return password;
}

function readTls(env: RedisEnv, urlSaysTls: boolean, readFile: ReadTextFile): RedisTls | undefined {
  if (env.REDIS_TLS !== undefined && env.REDIS_TLS !== '' && env.REDIS_TLS !== 'true' && env.REDIS_TLS !== 'false') {
    throw new Error(`REDIS_TLS: expected true or false, got "${env.REDIS_TLS}"`);
  }
  if (env.REDIS_TLS === 'false' && urlSaysTls) throw new Error('REDIS_TLS=false contradicts the rediss:// URL: use redis:// for plain text');
  const files = { ca: env.REDIS_TLS_CA_FILE, cert: env.REDIS_TLS_CERT_FILE, key: env.REDIS_TLS_KEY_FILE };
  const enabled = urlSaysTls || env.REDIS_TLS === 'true';
  if (!enabled) {
    const stray = Object.entries({ REDIS_TLS_CA_FILE: files.ca, REDIS_TLS_CERT_FILE: files.cert, REDIS_TLS_KEY_FILE: files.key }).find(([, value]) => value);
    if (stray) throw new Error(`${stray[0]} is set but TLS is off: set REDIS_TLS=true (or use a rediss:// URL)`);
    return undefined;
  }
  if (Boolean(files.cert) !== Boolean(files.key)) throw new Error('REDIS_TLS_CERT_FILE and REDIS_TLS_KEY_FILE go together: set both or neither');
  return {
    ...(files.ca ? { ca: fileOf('REDIS_TLS_CA_FILE', files.ca, readFile) } : {}),
    ...(files.cert ? { cert: fileOf('REDIS_TLS_CERT_FILE', files.cert, readFile) } : {}),
    ...(files.key ? { key: fileOf('REDIS_TLS_KEY_FILE', files.key, readFile) } : {}),
  };
}

export function readRedisSettings(env: RedisEnv, readFile: ReadTextFile = readText): RedisSettings {
  const clusterNodes = env.REDIS_CLUSTER_NODES || env.REDIS_CLUSTER_HOSTS;
  const url = clusterNodes ? undefined : env.REDIS_URL;
  if (url !== undefined && url !== '' && !/^rediss?:\/\/[^/]/.test(url)) {
    throw new Error(`REDIS_URL: expected redis://host:port or rediss://host:port, got "${redactUrl(url)}"`);
  }
  if (!clusterNodes && !url && !env.REDIS_HOST) return { mode: 'none' };

  const password = readPassword(env, readFile);
  const tls = readTls(env, url?.startsWith('rediss://') ?? false, readFile);
  const credentials: Credentials = {
    ...(env.REDIS_USERNAME ? { username: env.REDIS_USERNAME } : {}),
    ...(password ? { password } : {}),
    ...(tls ? { tls } : {}),
  };
  if (clusterNodes) {
    const variable = env.REDIS_CLUSTER_NODES ? 'REDIS_CLUSTER_NODES' : 'REDIS_CLUSTER_HOSTS';
    const nodes = clusterNodes
      .split(',')
      .filter((entry) => entry.trim())
      .map((entry) => parseHostPort(entry, variable));
    if (nodes.length === 0) throw new Error(`${variable}: no nodes listed`);
    return {
      mode: 'cluster',
      nodes,
      ...(env.REDIS_NAT_MAP ? { natMap: parseNatMap(env.REDIS_NAT_MAP) } : {}),
      ...credentials,
    };
  }
  if (url) return { mode: 'standalone', url, ...credentials };
  const { host, port } = parseHostPort(`${env.REDIS_HOST}:${env.REDIS_PORT ?? '6379'}`, 'REDIS_HOST/REDIS_PORT');
  return { mode: 'standalone', url: `redis://${host}:${port}`, ...credentials };
}

/** For logs and /health: where we connect, never the password. */
export function describeRedis(settings: RedisSettings): string {
  if (settings.mode === 'none') return 'in-memory (no Redis configured)';
  const tls = settings.tls ? ' (TLS)' : '';
  if (settings.mode === 'cluster') return `cluster ${settings.nodes.map((node) => `${node.host}:${node.port}`).join(',')}${tls}`;
  return `standalone ${new URL(settings.url).host}${tls}`;
}
