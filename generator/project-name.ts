import validate from 'validate-npm-package-name';

/** A reason the name cannot be used, or undefined when it is a valid npm package name for a new package. */
export function projectNameProblem(name: string): string | undefined {
  if (name === '' || name === '.' || name === '..') {
    return `"${name}" is not a project name; give a directory such as my-app`;
  }
  const result = validate(name);
  if (result.validForNewPackages) return undefined;
  const problems = [...(result.errors ?? []), ...(result.warnings ?? [])];
  return `"${name}" is not a valid npm package name: ${problems.join('; ')}`;
}
