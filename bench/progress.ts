// The progress display lives with the CLI (js/cli/progress.ts); benches and tools share it.
export { Progress } from '../js/cli/progress.js';
