/**
 * `npm run dev`: the API server with error messages and stack traces in 500
 * responses (EXPOSE_ERRORS), whatever `.env` says. Set here rather than in the
 * npm script, so the script runs in every shell, Windows' included.
 */
process.env.EXPOSE_ERRORS = 'true';
await import('./server.js');
