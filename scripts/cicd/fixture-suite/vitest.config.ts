// The fixture suite Lab 4 runs under its reporter (scripts/cicd/demo.ts): a small project whose
// tests pass, fail, run slowly and flake on purpose. Its files end in .fixture.ts so the lab's
// own suite never picks them up. Copied into a scratch git repository to run.
export default {
  test: {
    include: ['**/*.fixture.ts'],
    exclude: ['**/node_modules/**'],
    pool: 'threads',
    maxWorkers: 2,
  },
};
