// Build runtime for the product modules: no managed heap at all. The kernels never allocate managed
// objects (arrays, strings, classes); all memory comes from core/alloc.ts. AssemblyScript's stub
// runtime would bump-allocate over the same heap if some code did allocate by accident, so here every
// allocation entry point traps instead: a mistake shows up in the first test that reaches it rather
// than as silent corruption. (The as-pect specs use a managed runtime; alloc.ts adapts.)

// @ts-ignore: decorator
@unsafe @global
export function __alloc(size: usize): usize { unreachable(); return 0; }

// @ts-ignore: decorator
@unsafe @global
export function __realloc(ptr: usize, size: usize): usize { unreachable(); return 0; }

// @ts-ignore: decorator
@unsafe @global
export function __free(ptr: usize): void { unreachable(); }

// @ts-ignore: decorator
@unsafe @global
export function __reset(): void { unreachable(); }

// @ts-ignore: decorator
@unsafe @global
export function __new(size: usize, id: u32): usize { unreachable(); return 0; }

// @ts-ignore: decorator
@unsafe @global
export function __renew(oldPtr: usize, size: usize): usize { unreachable(); return 0; }

// @ts-ignore: decorator
@global @unsafe
export function __link(parentPtr: usize, childPtr: usize, expectMultiple: bool): void {}

// @ts-ignore: decorator
@global @unsafe
export function __pin(ptr: usize): usize { return ptr; }

// @ts-ignore: decorator
@global @unsafe
export function __unpin(ptr: usize): void {}

// @ts-ignore: decorator
@global @unsafe
function __visit(ptr: usize, cookie: u32): void {}

// @ts-ignore: decorator
@global @unsafe
export function __collect(): void {}

/** Marks builds using this runtime: core/alloc.ts then owns the whole heap. */
// @ts-ignore: decorator
@global export const WASMFACE_OWN_HEAP: bool = true;
