/**
 * The channel log on Redis: each channel is a Stream `<prefix>:{<channel>}`
 * (its ids are the SSE ids) and live delivery goes over pub/sub on
 * `<prefix>:{<channel>}:live`. The hash tag puts both names in one slot, so on
 * a cluster one Lua script can XADD and SPUBLISH on the shard that owns the
 * channel: appends and announcements happen atomically and in id order.
 * Standalone Redis uses classic PUBLISH/SUBSCRIBE, a cluster sharded pub/sub
 * (SPUBLISH/SSUBSCRIBE), whose messages stay on one shard instead of being
 * broadcast over the cluster bus.
 */
import { randomBytes } from 'node:crypto';
import { ZERO_ID, compareIds } from './event-id.js';
import type { ChannelLog, LiveEvent, LogHandlers, LogPosition, LoggedEvent } from './channel-log.js';
import type { Logger } from '../logger.js';
import { onReconnect, type RedisClient, type RedisConnections } from '../redis/connections.js';
import { ReplicaWait } from '../redis/replica-wait.js';
import { writeOrFull } from '../store/store-full.js';

/*
 * KEYS[1] stream, KEYS[2] this append's token; ARGV: maxlen, type, json, live
 * channel, publish command, token lifetime (s), trace context ('' for none).
 * The announcement is `id \n prevId \n type \n json`: prevId (the entry before
 * this one) lets receivers detect a missed announcement. An event published
 * with tracing on also carries its publisher's `traceparent`: in the entry's
 * `tp` field and as a fifth line (json never holds a raw newline).
 * The token makes an append idempotent: ioredis sends a command again when its
 * connection drops before the reply (a failover), and an append that had
 * already run then answers with the id it got instead of adding the event
 * a second time under a new id.
 */
const APPEND_SCRIPT = `
local done = redis.call('GET', KEYS[2])
if done then return done end
local previous = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
local prevId = '0-0'
if previous[1] then prevId = previous[1][1] end
local trace = ARGV[7] or ''
local id
if trace == '' then
  id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 't', ARGV[2], 'd', ARGV[3])
else
  id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 't', ARGV[2], 'd', ARGV[3], 'tp', trace)
end
local announcement = id .. '\\n' .. prevId .. '\\n' .. ARGV[2] .. '\\n' .. ARGV[3]
if trace ~= '' then announcement = announcement .. '\\n' .. trace end
redis.call(ARGV[5], ARGV[4], announcement)
redis.call('SET', KEYS[2], id, 'EX', ARGV[6])
return id
`;

/** Long enough to cover any resend (the cluster redirection budget is 15 s). */
const APPEND_TOKEN_TTL_SECONDS = 60;

/*
 * XINFO STREAM through a keyed script: client libraries cannot tell which key
 * XINFO reads, so on a cluster it would go to a random node.
 */
const POSITION_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 0 then return {} end
local info = redis.call('XINFO', 'STREAM', KEYS[1])
local wanted = { ['last-generated-id'] = true, ['max-deleted-entry-id'] = true, ['entries-added'] = true, ['length'] = true, ['recorded-first-entry-id'] = true }
local out = {}
for i = 1, #info, 2 do
  if wanted[info[i]] then
    out[#out + 1] = info[i]
    out[#out + 1] = info[i + 1]
  end
end
return out
`;

type AppendCommand = (
  stream: string,
  tokenKey: string,
  maxLength: number,
  type: string,
  json: string,
  live: string,
  publish: string,
  tokenTtlSeconds: number,
  trace: string,
) => Promise<string>;
type ScriptedClient = RedisClient & { sseAppend: AppendCommand; ssePosition: (stream: string) => Promise<unknown[]> };

export interface RedisChannelLogOptions {
  /** Approximate entries kept per stream (`XADD MAXLEN ~`). */
  maxLength: number;
  /** Key prefix (default `sse`). */
  prefix?: string;
  /**
   * After each append, wait until this many replicas have it (`WAIT`), so an
   * acknowledged event survives a master failover. 0 skips it (standalone).
   */
  waitReplicas: number;
  waitTimeoutMs: number;
  logger?: Logger | undefined;
  /** Called when Redis refused an append for lack of memory (it then throws StoreFullError). */
  onFull?: () => void;
}

export class RedisChannelLog implements ChannelLog {
  private readonly command: ScriptedClient;
  private readonly subscriber: RedisClient;
  private readonly sharded: boolean;
  private readonly publishCommand: string;
  private readonly prefix: string;
  /** Unique to this log object: tokens never collide across instances or restarts. */
  private readonly tokenPrefix = `${randomBytes(6).toString('hex')}-`;
  private appends = 0;
  private readonly maxLength: number;
  private readonly replicaWait: ReplicaWait;
  private handlers: LogHandlers | undefined;
  private readonly stopReconnect: () => void;

  constructor(
    connections: RedisConnections,
    private readonly options: RedisChannelLogOptions,
  ) {
    this.sharded = connections.mode === 'cluster';
    this.publishCommand = this.sharded ? 'SPUBLISH' : 'PUBLISH';
    this.prefix = options.prefix ?? 'sse';
    this.maxLength = options.maxLength;
    const command = connections.command as ScriptedClient;
    if (typeof command.sseAppend !== 'function') {
      command.defineCommand('sseAppend', { numberOfKeys: 2, lua: APPEND_SCRIPT });
      command.defineCommand('ssePosition', { numberOfKeys: 1, lua: POSITION_SCRIPT });
    }
    this.command = command;
    // An acknowledged event survives a master failover (cluster).
    this.replicaWait = new ReplicaWait(command, {
      replicas: options.waitReplicas ?? 0,
      timeoutMs: options.waitTimeoutMs ?? 100,
      logger: options.logger,
    });
    this.subscriber = connections.subscriber('sse', { sharded: this.sharded });

    const liveSuffixLength = '}:live'.length;
    const liveOffset = `${this.prefix}:{`.length;
    // Life of an event, step 5: an announcement reaches this instance.
    const onMessage = (liveChannel: string, message: string) => {
      const channel = liveChannel.slice(liveOffset, liveChannel.length - liveSuffixLength);
      const event = parseAnnouncement(message);
      if (event) this.handlers?.live(channel, event);
    };
    this.subscriber.on(this.sharded ? 'smessage' : 'message', onMessage);
    // Announcements published while a subscriber was reconnecting are lost:
    // the processor reads them back from the streams.
    const resync = () => this.handlers?.resync();
    const stopStandalone = onReconnect(this.subscriber, resync);
    this.subscriber.on('subscribersReady', resync);
    this.stopReconnect = () => {
      stopStandalone();
      this.subscriber.off('subscribersReady', resync);
      this.subscriber.off(this.sharded ? 'smessage' : 'message', onMessage);
    };
  }

  streamKey(channel: string): string {
    return `${this.prefix}:{${channel}}`;
  }

  liveChannel(channel: string): string {
    return `${this.prefix}:{${channel}}:live`;
  }

  /** The key that remembers one append's id (same slot as the stream). */
  appendTokenKey(channel: string, token: string): string {
    return `${this.prefix}:{${channel}}:sent:${token}`;
  }

  /** Life of an event, step 4. */
  async append(channel: string, type: string, json: string, trace?: string): Promise<string> {
    const stream = this.streamKey(channel);
    const token = `${this.tokenPrefix}${(++this.appends).toString(36)}`;
    // At maxmemory the script fails at XADD, before it announces or records anything.
    const id = await writeOrFull(
      () =>
        this.command.sseAppend(
          stream,
          this.appendTokenKey(channel, token),
          this.maxLength,
          type,
          json,
          this.liveChannel(channel),
          this.publishCommand,
          APPEND_TOKEN_TTL_SECONDS,
          trace ?? '',
        ),
      this.options.onFull,
    );
    await this.replicaWait.confirm(stream);
    return id;
  }

  async read(channel: string, afterId: string, limit: number): Promise<LoggedEvent[]> {
    const entries = (await this.command.xrange(this.streamKey(channel), `(${afterId}`, '+', 'COUNT', limit)) as Array<[string, string[]]>;
    return entries.map(([id, fields]) => toEvent(id, fields));
  }

  async position(channel: string): Promise<LogPosition> {
    const info = await this.command.ssePosition(this.streamKey(channel));
    if (info.length === 0) return { lastId: ZERO_ID, trimmedThrough: ZERO_ID };
    const field = (name: string) => {
      const index = info.indexOf(name);
      return index >= 0 ? String(info[index + 1]) : ZERO_ID;
    };
    // Trimming (MAXLEN) does not move max-deleted-entry-id: more entries added
    // than kept means everything before the first entry is gone.
    const trimmed = Number(field('entries-added')) > Number(field('length'));
    const deleted = field('max-deleted-entry-id');
    const beforeFirst = trimmed ? previousId(field('recorded-first-entry-id')) : ZERO_ID;
    return { lastId: field('last-generated-id'), trimmedThrough: compareIds(deleted, beforeFirst) > 0 ? deleted : beforeFirst };
  }

  async subscribe(channel: string): Promise<void> {
    const live = this.liveChannel(channel);
    if (this.sharded) await this.subscriber.ssubscribe(live);
    else await this.subscriber.subscribe(live);
  }

  async unsubscribe(channel: string): Promise<void> {
    const live = this.liveChannel(channel);
    if (this.sharded) await this.subscriber.sunsubscribe(live);
    else await this.subscriber.unsubscribe(live);
  }

  setHandlers(handlers: LogHandlers): void {
    this.handlers = handlers;
  }

  /** The shared connections are quit by their owner; only our listeners go here. */
  close(): Promise<void> {
    this.stopReconnect();
    return Promise.resolve();
  }
}

function toEvent(id: string, fields: string[]): LoggedEvent {
  let type = 'message';
  let json = 'null';
  let trace: string | undefined;
  for (let index = 0; index < fields.length; index += 2) {
    if (fields[index] === 't') type = fields[index + 1] ?? type;
    else if (fields[index] === 'd') json = fields[index + 1] ?? json;
    else if (fields[index] === 'tp') trace = fields[index + 1];
  }
  return { id, type, json, trace };
}

function parseAnnouncement(message: string): LiveEvent | null {
  const first = message.indexOf('\n');
  const second = message.indexOf('\n', first + 1);
  const third = message.indexOf('\n', second + 1);
  if (first < 0 || second < 0 || third < 0) return null;
  const fourth = message.indexOf('\n', third + 1);
  return {
    id: message.slice(0, first),
    prevId: message.slice(first + 1, second),
    type: message.slice(second + 1, third),
    json: fourth < 0 ? message.slice(third + 1) : message.slice(third + 1, fourth),
    trace: fourth < 0 ? undefined : message.slice(fourth + 1),
  };
}

/** The greatest id below `id` (sequences are unsigned 64-bit). */
function previousId(id: string): string {
  const [ms = '0', sequence = '0'] = id.split('-');
  if (sequence !== '0') return `${ms}-${BigInt(sequence) - 1n}`;
  return ms === '0' ? ZERO_ID : `${BigInt(ms) - 1n}-18446744073709551615`;
}
