/**
 * The Standard Schema interface (https://standardschema.dev), version 1.
 * zod, valibot and arktype implement it, so the kernel validates with any of
 * them without depending on one. Copied by shape: the spec asks consumers to
 * define it themselves rather than import a package.
 */
export interface StandardSchemaV1<Input = unknown, Output = Input> {
  readonly '~standard': StandardSchemaV1.Props<Input, Output>;
}

// eslint-disable-next-line @typescript-eslint/no-namespace
export declare namespace StandardSchemaV1 {
  export interface Props<Input = unknown, Output = Input> {
    readonly version: 1;
    readonly vendor: string;
    readonly validate: (value: unknown) => Result<Output> | Promise<Result<Output>>;
    readonly types?: Types<Input, Output> | undefined;
  }
  export type Result<Output> = SuccessResult<Output> | FailureResult;
  export interface SuccessResult<Output> {
    readonly value: Output;
    readonly issues?: undefined;
  }
  export interface FailureResult {
    readonly issues: ReadonlyArray<Issue>;
  }
  export interface Issue {
    readonly message: string;
    readonly path?: ReadonlyArray<PropertyKey | PathSegment> | undefined;
  }
  export interface PathSegment {
    readonly key: PropertyKey;
  }
  export interface Types<Input = unknown, Output = Input> {
    readonly input: Input;
    readonly output: Output;
  }
  export type InferInput<Schema extends StandardSchemaV1> = NonNullable<Schema['~standard']['types']>['input'];
  export type InferOutput<Schema extends StandardSchemaV1> = NonNullable<Schema['~standard']['types']>['output'];
}

/** One validation problem: where (`body`/`query`), which field (dotted: `items.0.name`) and why. */
export interface ValidationDetail {
  location: 'body' | 'query';
  path: string;
  message: string;
}

export function issuePath(issue: StandardSchemaV1.Issue): string {
  if (!issue.path || issue.path.length === 0) return '';
  let out = '';
  for (const segment of issue.path) {
    const key = typeof segment === 'object' && segment !== null ? segment.key : segment;
    out += (out ? '.' : '') + String(key);
  }
  return out;
}

export function toValidationDetails(issues: ReadonlyArray<StandardSchemaV1.Issue>, location: 'body' | 'query'): ValidationDetail[] {
  return issues.map((issue) => ({ location, path: issuePath(issue), message: issue.message }));
}
