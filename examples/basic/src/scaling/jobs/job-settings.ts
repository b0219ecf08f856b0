/** How this process runs jobs (config.ts reads them from the environment). */
export interface JobSettings {
  /** Run workers here; off: only schedule (the jobs run in `npm run worker` processes or other instances). */
  workers: boolean;
  /** Jobs of one queue that one process runs at once. */
  concurrency: number;
  /** The namespaces this process works on; `'*'`: every registered one. */
  queues: readonly string[] | '*';
  /**
   * How long a running job's lock lasts (renewed every half of it). A worker
   * that dies mid-job leaves the job locked this long; the next stalled-job
   * check (as often) hands it to another worker.
   */
  lockMs: number;
  /** Completed jobs kept per queue (their ids still deduplicate), for at most `keepCompletedMs`. */
  keepCompleted: number;
  keepCompletedMs: number;
  /** Failed jobs kept per queue, for at most `keepFailedMs`. */
  keepFailed: number;
  keepFailedMs: number;
  /** A metrics scrape waits this long for queue counts before reporting none. */
  countsTimeoutMs: number;
}
