// The jobs of Volt's starters and blog (their services/jobs.ts): a
// router without a namespace, merged under `system`, whose handler reads
// `input` and logs through `log`.
import { z } from 'zod';
import { jobs } from './jobs.js';

export const systemJobRouter = jobs.router({
  jobs: {
    notifyOnNewPost: jobs.register({
      name: 'notifyOnNewPost',
      input: z.object({ postId: z.string(), title: z.string() }),
      handler: async ({ input, log }) => {
        log.info(`Sending notification for new post: "${input.title}"`);
        // Fake sending an email
        await new Promise((res) => setTimeout(res, 20));
        log.info('Notification sent!');
      },
    }),
  },
});
