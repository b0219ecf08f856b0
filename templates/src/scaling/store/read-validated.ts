import { VoltError, type StandardSchemaV1, type StoreAdapter } from '../../volt/index.js';
import { issuePath } from '../../volt/standard-schema.js';

/**
 * A stored value that does not match the schema it is read with: written by
 * hand, by another version of the app, or by another program. Answered as a
 * 500 `STORED_VALUE_INVALID` whose message names the key and the first
 * problem, and whose `details` list every problem (path and message; never
 * the stored value itself).
 */
export class StoredValueError extends VoltError {
  readonly key: string;

  constructor(key: string, issues: ReadonlyArray<StandardSchemaV1.Issue>) {
    const details = issues.map((issue) => ({ path: issuePath(issue), message: issue.message }));
    const first = details[0];
    const where = first?.path ? `${first.path}: ` : '';
    super('STORED_VALUE_INVALID', `The value stored at "${key}" does not match its schema: ${where}${first?.message ?? 'invalid'}`, {
      status: 500,
      details,
      data: { key },
    });
    this.name = 'StoredValueError';
    this.key = key;
  }
}

/**
 * The value at `key` checked against `schema` (any Standard Schema: zod,
 * valibot, arktype): its output when it matches, null when the key is
 * missing, a StoredValueError naming the key otherwise. Read stored data
 * through this rather than `store.get<T>()`, which only asserts the type.
 */
export async function readValidated<Schema extends StandardSchemaV1>(
  store: Pick<StoreAdapter, 'get'>,
  key: string,
  schema: Schema,
): Promise<StandardSchemaV1.InferOutput<Schema> | null> {
  const value = await store.get<unknown>(key);
  if (value === null) return null;
  const result = await schema['~standard'].validate(value);
  if (result.issues !== undefined) throw new StoredValueError(key, result.issues);
  return result.value as StandardSchemaV1.InferOutput<Schema>;
}

/**
 * The values at `keys` that exist and match `schema`, in the order of `keys`:
 * a missing key is skipped, and so is a value that does not match (handed to
 * `onInvalid`), so one bad value never takes a whole list down.
 */
export async function readAllValidated<Schema extends StandardSchemaV1>(
  store: Pick<StoreAdapter, 'get'>,
  keys: readonly string[],
  schema: Schema,
  onInvalid?: (error: StoredValueError) => void,
): Promise<Array<StandardSchemaV1.InferOutput<Schema>>> {
  const values = await Promise.all(
    keys.map((key) =>
      readValidated(store, key, schema).catch((error: unknown) => {
        if (!(error instanceof StoredValueError)) throw error;
        onInvalid?.(error);
        return null;
      }),
    ),
  );
  return values.filter((value) => value !== null);
}
