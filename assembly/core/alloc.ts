// Region allocator for everything the module hands out: model weights, activation arenas,
// scratch, galleries, and the buffers JS fills for standalone kernel calls.
//
// Why not TLSF (--runtime minimal)? Its block headers live inside the heap, next to user data, and it
// traps when memory cannot grow. Here the bookkeeping (a sorted table of live regions) lives in static
// memory below __heap_base, so (1) an entry point can check that a buffer lies inside ONE live region
// before touching it, and no pointer a caller passes can reach allocator state; (2) a failed grow
// returns 0 instead of trapping. Allocation happens at load time only (models, plans, galleries),
// so a linear first-fit over at most MAX_REGIONS entries is plenty.

export const MAX_REGIONS: i32 = 4096;
const ALIGN: usize = 16;

// [start, end) pairs sorted by start; `count` live entries.
const table: usize = memory.data(MAX_REGIONS * 8, 16);
let count: i32 = 0;
let limitBytes: u64 = 2147483648; // 2 GiB default ceiling (a literal, so it is set without running start code); JS may lower it

@inline function startOf(i: i32): usize { return load<usize>(table + (<usize>i << 3)); }
@inline function endOf(i: i32): usize { return load<usize>(table + (<usize>i << 3), 4); }

@inline function heapStart(): usize { return (__heap_base + ALIGN - 1) & ~(ALIGN - 1); }

/** Sets the ceiling on the total linear memory the allocator may grow to (bytes). */
export function setMemoryLimit(bytes: f64): void {
  limitBytes = bytes < 65536 ? 65536 : bytes > 4294901760 ? 4294901760 : <u64>bytes;
}

/** Allocates `size` bytes (16-aligned, zero-filled). Returns 0 when it cannot. */
export function alloc(size: usize): usize {
  return allocBytes(<u64>size);
}

/** alloc() for sizes computed in u64 (dimension products). */
export function allocBytes(size: u64): usize {
  if (size == 0 || size > limitBytes || count >= MAX_REGIONS) return 0;
  const sz = (size + ALIGN - 1) & ~(<u64>ALIGN - 1);
  // Builds with a managed runtime (the as-pect specs) own the heap through TLSF: take memory from it
  // and keep only the ownership table here. Product builds use core/runtime-none.ts and the code below.
  if (!isDefined(WASMFACE_OWN_HEAP)) return track(heap.alloc(<usize>sz), sz);
  // first fit between live regions
  let prevEnd = <u64>heapStart();
  let at = count;
  for (let i = 0; i < count; i++) {
    if (<u64>startOf(i) - prevEnd >= sz) { at = i; break; }
    prevEnd = <u64>endOf(i);
  }
  const end = prevEnd + sz;
  if (end > limitBytes) return 0;
  const have = <u64>memory.size() << 16;
  if (end > have) {
    const pages = <i32>((end - have + 0xffff) >> 16);
    if (memory.grow(pages) < 0) return 0;
  }
  const ptr = <usize>prevEnd;
  // insert at position `at`, keeping the table sorted
  memory.copy(table + (<usize>(at + 1) << 3), table + (<usize>at << 3), <usize>(count - at) << 3);
  store<usize>(table + (<usize>at << 3), ptr);
  store<usize>(table + (<usize>at << 3), <usize>end, 4);
  count++;
  memory.fill(ptr, 0, <usize>sz);
  return ptr;
}

function track(ptr: usize, sz: u64): usize {
  let at = 0;
  while (at < count && startOf(at) < ptr) at++;
  memory.copy(table + (<usize>(at + 1) << 3), table + (<usize>at << 3), <usize>(count - at) << 3);
  store<usize>(table + (<usize>at << 3), ptr);
  store<usize>(table + (<usize>at << 3), ptr + <usize>sz, 4);
  count++;
  memory.fill(ptr, 0, <usize>sz);
  return ptr;
}

/** Index of the live region starting exactly at ptr, or -1. */
function find(ptr: usize): i32 {
  let lo = 0, hi = count - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const s = startOf(mid);
    if (s == ptr) return mid;
    if (s < ptr) lo = mid + 1; else hi = mid - 1;
  }
  return -1;
}

/** Frees a region; its bytes are zeroed first (templates and images must not linger). */
export function free(ptr: usize): bool {
  const i = find(ptr);
  if (i < 0) return false;
  memory.fill(ptr, 0, endOf(i) - ptr);
  memory.copy(table + (<usize>i << 3), table + (<usize>(i + 1) << 3), <usize>(count - i - 1) << 3);
  count--;
  if (!isDefined(WASMFACE_OWN_HEAP)) heap.free(ptr);
  return true;
}

/** Size in bytes of the live region starting at ptr, or 0. */
export function sizeOf(ptr: usize): usize {
  const i = find(ptr);
  return i < 0 ? 0 : endOf(i) - ptr;
}

/** True when [ptr, ptr+len) lies inside a single live region (len may be 0: ptr must still be inside). */
export function owned(ptr: usize, len: u64): bool {
  // last region whose start <= ptr
  let lo = 0, hi = count - 1, idx = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (startOf(mid) <= ptr) { idx = mid; lo = mid + 1; } else hi = mid - 1;
  }
  if (idx < 0) return false;
  return <u64>ptr + len <= <u64>endOf(idx) && ptr < endOf(idx);
}

/** Number of live regions and bytes they hold (for leak tests and soak reports). */
export function liveRegions(): i32 { return count; }
export function liveBytes(): f64 {
  let s: f64 = 0;
  for (let i = 0; i < count; i++) s += <f64>(endOf(i) - startOf(i));
  return s;
}
