export interface User {
  id: string;
  name: string;
  email: string;
}

/** The context the queues guide's controller uses: `context.database.user.create(...)`. */
export interface AppContext {
  database: { user: { create(args: { data: { name: string; email: string } }): Promise<User> } };
}

export const sentEmails: Array<{ to: string; subject: string }> = [];

export function createContext(): AppContext {
  const users: User[] = [];
  return {
    database: {
      user: {
        async create({ data }) {
          const user = { id: String(users.length + 1), ...data };
          users.push(user);
          return user;
        },
      },
    },
  };
}

export async function sendEmail(message: { to: string; subject: string }): Promise<void> {
  sentEmails.push(message);
}
