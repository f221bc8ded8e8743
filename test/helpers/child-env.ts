/**
 * The environment a test gives a program it starts (the service, tw-cli, npm start): PATH and the
 * given variables, nothing else of the test's own environment; plus, under `npm test`, the V8
 * coverage folder, so what those processes run is counted in the coverage summary too.
 */
export function childEnv(env: Record<string, string> = {}): Record<string, string> {
  const coverage = process.env.NODE_V8_COVERAGE;
  return { PATH: process.env.PATH ?? '', ...(coverage ? { NODE_V8_COVERAGE: coverage } : {}), ...env };
}
