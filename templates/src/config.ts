import { hostname } from 'node:os';
import { z } from 'zod';

/**
 * Every setting comes from the environment (twelve-factor), parsed once at
 * start-up so a bad value fails fast with the variable's name in the message.
 * `.env.example` documents each one.
 */
const EnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().default('0.0.0.0'),
  INSTANCE_ID: z.string().min(1).optional(),
  BASE_PATH: z.string().default('/api/v1'),
  BODY_LIMIT_BYTES: z.coerce.number().int().positive().default(1024 * 1024),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type Config = ReturnType<typeof loadConfig>;

export function loadConfig(env: NodeJS.ProcessEnv = process.env) {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new Error(`Invalid environment:\n  ${problems.join('\n  ')}`);
  }
  const e = parsed.data;
  return {
    env: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    /** Sent as `X-Instance-Id` and as the `instance` label of every metric. */
    instanceId: e.INSTANCE_ID ?? `${hostname()}-${process.pid}`,
    basePath: e.BASE_PATH,
    bodyLimitBytes: e.BODY_LIMIT_BYTES,
    logLevel: e.LOG_LEVEL,
  };
}
