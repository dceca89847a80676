// A small rule set, fast (no type information): what the code's own comments already ask
// for (no control characters in a regex by accident, no require() where import works), no
// `any` (without exceptions in src/ and webview-ui/src), no unused names, and type-only
// imports marked as such so esbuild drops them.
import tseslint from 'typescript-eslint';

// `any` has no exceptions in the product's code: a directive that would turn
// no-explicit-any off (by name, or a line's directive naming no rule) is itself an error.
// Outside values are typed as unknown, or as a view of the fields read, and checked. (A
// file-wide bare eslint-disable silences this rule too; no such directive is in the code.)
const noAnyExceptions = {
  meta: { type: 'problem', messages: { exception: 'No exceptions to @typescript-eslint/no-explicit-any here: type the value (unknown, a narrow interface of the fields read, a generic parameter).' }, schema: [] },
  create(context) {
    return {
      Program() {
        for (const comment of context.sourceCode.getAllComments()) {
          const directive = /^\s*eslint-disable(?:-next-line|-line)?(?:\s+([^]*?))?(?:\s--[^]*)?$/.exec(comment.value);
          if (directive && (!directive[1] || /@typescript-eslint\/no-explicit-any\b/.test(directive[1]))) {
            context.report({ loc: comment.loc, messageId: 'exception' });
          }
        }
      },
    };
  },
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.conduit-dev/**', 'media/**', 'supabase/**', 'scripts/**', 'webview-ui/dist/**', '**/*.mjs', '**/*.cjs', '**/*.js'] },
  {
    files: ['src/**/*.ts', 'webview-ui/src/**/*.ts'],
    languageOptions: { parser: tseslint.parser },
    plugins: { '@typescript-eslint': tseslint.plugin, conduit: { rules: { 'no-any-exceptions': noAnyExceptions } } },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      'conduit/no-any-exceptions': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports', disallowTypeAnnotations: false }],
      '@typescript-eslint/no-require-imports': 'error',
      'no-control-regex': 'error',
    },
  },
  {
    // Tests and benchmarks: unused names, require() and control characters; `any` is allowed (a test may feed a
    // function what its types forbid) and type-only imports are not enforced.
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    languageOptions: { parser: tseslint.parser },
    plugins: { '@typescript-eslint': tseslint.plugin },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true }],
      '@typescript-eslint/no-require-imports': 'error',
      'no-control-regex': 'error',
    },
  },
);
