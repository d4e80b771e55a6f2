// The SVG charts live with the CLI (js/cli/svg.ts); benches share them.
export { barChart, lineChart } from '../js/cli/svg.js';
export type { BarGroup, Curve } from '../js/cli/svg.js';
