// Types for recheck 4.5.0's self-contained build (lib/browser.js): the same checker as the package
// main, but its checkSync runs in-process and it loads nothing else (no synckit, native or JVM agent).

declare module 'recheck/lib/browser.js' {
  const recheck: { checkSync: typeof import('recheck').checkSync };
  export default recheck;
}
