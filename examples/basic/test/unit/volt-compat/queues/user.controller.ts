// The users controller of Volt's queues guide,
// as written there; only the imports differ. The second action is the
// starter guide's `enqueue` call.
import { volt } from './volt.js';
import { z } from 'zod';

export const userController = volt.controller({
  path: '/users',
  actions: {
    create: volt.mutation({
      path: '/',
      method: 'POST',
      body: z.object({ name: z.string(), email: z.string().email() }),
      handler: async ({ request, context, response }) => {
        const { name, email } = request.body;
        const user = await context.database.user.create({ data: { name, email } });

        // Invoke the background job via its namespace and task name.
        // The request is NOT blocked by this call.
        await volt.jobs.emails.schedule({
          // The name of the task to run, matching the key in the router.
          task: 'sendWelcomeEmail',

          // The payload is type-checked against the job's Zod schema.
          input: {
            userId: user.id,
            email: user.email,
            name: user.name,
          },

          // Optional: Job-specific options.
          options: {
            delay: 5000, // Delay this job by 5 seconds (5000ms).
          },
        });

        // The handler returns a response to the client immediately.
        return response.created(user);
      },
    }),

    publish: volt.mutation({
      path: '/posts',
      method: 'POST',
      body: z.object({ title: z.string() }),
      handler: async ({ request, response }) => {
        const post = { id: 'p1', title: request.body.title };
        // Enqueue job without waiting for it to complete
        await volt.jobs.system.enqueue({
          task: 'notifyOnNewPost',
          input: { postId: post.id, title: post.title },
        });
        return response.created({ post });
      },
    }),
  },
});
