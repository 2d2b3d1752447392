/** @type {import('jest').Config} */
const transform = {
  '^.+\\.ts$': [
    '@swc/jest',
    { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } },
  ],
};
const project = (name, extra = {}) => ({
  displayName: name,
  testEnvironment: 'node',
  transform,
  // src/ names a lazily loaded module by its built name (`import('./x.js')`, as node16 resolution
  // requires); under Jest the module is the .ts source beside it.
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testMatch: [`<rootDir>/test/${name}/**/*.test.ts`],
  ...extra,
});

module.exports = {
  // The pyramid of docs/style.md §2.8: `npx jest --selectProjects domain` runs one layer.
  projects: [
    project('domain'),
    project('mof'),
    project('store'),
    project('service'),
    project('transport'),
    project('e2e'),
    project('ops'),
    project('client'),
  ],
  testTimeout: 30000,
};
