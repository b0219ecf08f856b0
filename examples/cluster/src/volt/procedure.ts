import type { ActionCall } from './action-call.js';
import { KIND_NONE } from './response.js';
import type { Procedure, ProcedureDefinition, ProcedureFactory } from './types.js';

export function defineProcedure<TContext, TOptions, TReturn, TExtension>(
  definition: ProcedureDefinition<TContext, TOptions, TReturn>,
): ProcedureFactory<TOptions, TExtension> {
  if (!definition.name) throw new TypeError('volt.procedure: `name` is required');
  const run = definition.handler as Procedure['run'];
  const concurrent = definition.concurrent === true;
  const docsFor = (options: TOptions | undefined) => (typeof definition.docs === 'function' ? definition.docs(options) : definition.docs);
  const make = (options?: TOptions): Procedure<TExtension> =>
    ({ kind: 'volt.procedure', name: definition.name, concurrent, options, run, docs: docsFor(options) }) as Procedure<TExtension>;
  // The factory doubles as a procedure with no options, so `use: [auth]` and `use: [auth()]` both work.
  return Object.assign(make, {
    kind: 'volt.procedure' as const,
    concurrent,
    options: undefined,
    run,
    docs: docsFor(undefined),
    procedureName: definition.name,
  }) as unknown as ProcedureFactory<TOptions, TExtension>;
}

export function isProcedure(value: unknown): value is Procedure {
  return (typeof value === 'function' || typeof value === 'object') && value !== null && (value as Procedure).kind === 'volt.procedure';
}

/** A step of a route's chain: one procedure, or a group of adjacent concurrent ones. */
export type Stage = Procedure | Procedure[];

/** Groups adjacent `concurrent` procedures once, at startup. */
export function compileStages(use: readonly unknown[] | undefined, where: string): Stage[] | null {
  if (!use || use.length === 0) return null;
  const stages: Stage[] = [];
  for (const item of use) {
    if (!isProcedure(item)) throw new TypeError(`${where}: every entry of \`use\` must come from volt.procedure()`);
    const last = stages[stages.length - 1];
    if (item.concurrent && Array.isArray(last)) last.push(item);
    else stages.push(item.concurrent ? [item] : item);
  }
  return stages.map((stage) => (Array.isArray(stage) && stage.length === 1 ? stage[0]! : stage));
}

export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && typeof value === 'object' && typeof (value as PromiseLike<unknown>).then === 'function';
}

/** Applies one procedure result; true when the request has been answered. */
function apply(call: ActionCall, result: unknown): boolean {
  if (result === call.response || call.response.kind !== KIND_NONE) return true;
  if (result !== null && typeof result === 'object') {
    // A new object: the base context may be shared between requests.
    call.context = { ...(call.context as object), ...(result as object) };
  }
  return false;
}

/** Runs the chain; resolves true when a procedure ended the request. */
export async function runStages(stages: Stage[], call: ActionCall): Promise<boolean> {
  for (const stage of stages) {
    if (!Array.isArray(stage)) {
      let result = stage.run(stage.options, call as never);
      if (isThenable(result)) result = await result;
      if (apply(call, result)) return true;
      continue;
    }
    // Concurrent group: each sees the same context; results merge in declaration order.
    const results = await Promise.all(stage.map((procedure) => procedure.run(procedure.options, call as never)));
    for (const result of results) if (apply(call, result)) return true;
  }
  return false;
}
