import { userController } from './user.controller.js';
import { volt } from './volt.js';

export const AppRouter = volt.router({
  controllers: {
    users: userController,
  },
});
