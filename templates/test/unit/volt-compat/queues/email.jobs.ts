// features/emails/jobs/email.jobs.ts of Volt's queues guide, as written
// there; only the imports differ (and `volt`, which the guide's handler uses
// without showing its import).
import { z } from 'zod';
import { jobs } from './jobs.js';
import { sendEmail } from './context.js';
import { volt } from './volt.js';

export const emailJobRouter = jobs.router({
  /**
   * A unique namespace for this group of jobs.
   * This will be used to invoke jobs (e.g., volt.jobs.emails.schedule(...))
   */
  namespace: 'emails',

  /**
   * An object containing all jobs for this router.
   */
  jobs: {
    /**
     * Defines a job named 'sendWelcomeEmail'.
     */
    sendWelcomeEmail: jobs.register({
      /**
       * A Zod schema for the job's payload. This ensures that any data
       * sent to this job is type-safe and automatically validated.
       */
      input: z.object({
        userId: z.string(),
        email: z.string().email(),
        name: z.string(),
      }),

      /**
       * The handler function containing the job's logic.
       * This is what the worker process will execute.
       */
      // biome-ignore lint/correctness/noUnusedFunctionParameters: the guide's handler takes `context` it does not use.
      handler: async ({ payload, context }) => {
        // `payload` is fully typed from the Zod schema.
        // `context` is the same global context available in your API actions.
        volt.logger.info(`Sending welcome email to ${payload.name}`);
        await sendEmail({ to: payload.email, subject: 'Welcome!' });
        return { sentAt: new Date() };
      },
    }),

    // You could define another job here, like 'sendPasswordReset'
  },

  /**
   * Optional: Global lifecycle hooks for all jobs in this router.
   */
  onSuccess: (job) => {
    console.log(`Email job '${job.name}' completed successfully.`);
  },
  onFailure: (job, error) => {
    console.error(`Email job '${job.name}' failed:`, error);
  },
});
