// SHA-256 of every model file shipped with this version (whole file), by model id. Written by
// `npm run models` (tools/convert/cli.ts); FaceEngine refuses other files unless told otherwise.
export const PINNED_MODELS: Record<string, string> = {};
