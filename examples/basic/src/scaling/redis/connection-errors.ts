/**
 * Connection errors say what failed, not why: a plain-text client talking to a
 * TLS-only server only sees the connection reset. These hints name the likely
 * setting to fix for the errors a misconfiguration produces.
 */
export interface ConnectionContext {
  /** The client connects with TLS. */
  tls: boolean;
  /** The connection was ready before: a later error is an outage, not a misconfiguration. */
  everReady: boolean;
}

const TLS_TO_PLAIN = /ERR_SSL_|EPROTO|wrong version number|packet length too long|unknown protocol/i;
const UNTRUSTED = /SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|CERT_UNTRUSTED|CERT_HAS_EXPIRED/;

export function connectionHint(error: Error & { code?: string }, context: ConnectionContext): string | undefined {
  const code = error.code ?? '';
  const text = `${code} ${error.message}`;
  if (/WRONGPASS|NOAUTH|invalid username-password/i.test(text)) {
    return 'Redis refused the login: check REDIS_USERNAME and REDIS_PASSWORD (or REDIS_PASSWORD_FILE)';
  }
  if (/NOPERM/.test(text)) return "the Redis user may not run this command or touch this key: see the app user's rules (infra/redis/app-user.acl)";
  if (context.everReady) return undefined;
  if (!context.tls && (code === 'ECONNRESET' || code === 'EPIPE')) {
    return 'Redis closed the connection before answering: if it accepts TLS only, connect with a rediss:// URL or REDIS_TLS=true';
  }
  if (!context.tls) return undefined;
  if (TLS_TO_PLAIN.test(text)) return 'the server does not speak TLS: if it listens in plain text, connect with redis:// and REDIS_TLS unset';
  if (code === 'ETIMEDOUT') return 'no TLS handshake in time: if the server listens in plain text, connect with redis:// and REDIS_TLS unset';
  if (UNTRUSTED.test(code)) return "the server's certificate is not trusted: set REDIS_TLS_CA_FILE to the CA that signed it";
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return "the server's certificate does not name the host connected to (on a cluster: the names or addresses the nodes announce)";
  }
  return undefined;
}
