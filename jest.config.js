/** Jest runs the TypeScript sources directly through SWC (no type check here: `npm run typecheck` does that). */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      { jsc: { target: 'es2023', parser: { syntax: 'typescript' } }, module: { type: 'es6' } },
    ],
  },
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  // A hang guard, not a timing goal: on 2 shared cores under heavy load a reliability test took over 60 s (the old
  // limit failed it); no test may fail for being slow, so the guard only catches what never finishes.
  testTimeout: 600_000,
  maxWorkers: 2,
};
