/**
 * Merkle inclusion and consistency proofs of RFC 9162 section 2.1.3 and 2.1.4 (the same
 * proofs as RFC 6962 section 2.1.1 and 2.1.2), over the leaf hashes of the audit log.
 *
 * Sizes and indexes are JavaScript numbers, so every "shift" below is a division: bitwise
 * operators truncate to 32 bits and would give wrong answers for logs past 2^31 entries.
 */
import { EMPTY_ROOT, nodeHash, rootFromLeaves } from './merkle.js';

/** Largest power of two strictly smaller than `n` (n >= 2): the split point `k` of RFC 9162 2.1.1. */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function isPowerOfTwo(n: number): boolean {
  let m = n;
  while (m > 1 && m % 2 === 0) m /= 2;
  return m === 1;
}

function isOdd(n: number): boolean {
  return n % 2 === 1;
}

function half(n: number): number {
  return Math.floor(n / 2);
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function isSize(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}

/** MTH(D[start:end]) over leaf hashes (RFC 9162 2.1.1), start < end. */
function subtreeRoot(leaves: readonly Uint8Array[], start: number, end: number): Uint8Array {
  return rootFromLeaves(leaves.slice(start, end));
}

function checkLeaves(leaves: readonly Uint8Array[], size: number, what: string): void {
  if (!isSize(size)) throw new RangeError(`${what}: size must be a non-negative safe integer`);
  if (size > leaves.length) throw new RangeError(`${what}: size ${size} exceeds the ${leaves.length} leaves given`);
}

/**
 * Root hash MTH(D[0:size]) of the first `size` leaf hashes (RFC 9162 2.1.1); the empty tree's
 * root is SHA-256 of the empty string.
 */
export function rootAt(leaves: readonly Uint8Array[], size: number): Uint8Array {
  checkLeaves(leaves, size, 'rootAt');
  return rootFromLeaves(leaves.slice(0, size));
}

/**
 * Inclusion proof PATH(index, D[0:size]) of RFC 9162 2.1.3.1: the sibling hashes from the leaf
 * up to the root, leaf-side first. `leaves` holds at least the first `size` leaf hashes.
 * Throws RangeError when `index >= size` or `size` exceeds the leaves given.
 */
export function inclusionProof(leaves: readonly Uint8Array[], index: number, size: number): Uint8Array[] {
  checkLeaves(leaves, size, 'inclusionProof');
  if (!isSize(index) || index >= size) throw new RangeError(`inclusionProof: index ${index} is not below size ${size}`);
  const path = (m: number, start: number, end: number): Uint8Array[] => {
    const n = end - start;
    if (n === 1) return [];
    const k = splitPoint(n);
    return m < k
      ? [...path(m, start, start + k), subtreeRoot(leaves, start + k, end)]
      : [...path(m - k, start + k, end), subtreeRoot(leaves, start, start + k)];
  };
  return path(index, 0, size);
}

/**
 * Verifies an inclusion proof with the algorithm of RFC 9162 2.1.3.2: true iff `leaf` (a leaf
 * hash) is at `index` in the tree of `size` leaves whose root is `root`. Never throws.
 */
export function verifyInclusion(
  leaf: Uint8Array,
  index: number,
  size: number,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  // Step 1: the index must lie inside the tree.
  if (!isSize(index) || !isSize(size) || index >= size) return false;
  // Step 2-3.
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  // Step 4.
  for (const p of proof) {
    // 4a: a path longer than the tree is high.
    if (sn === 0) return false;
    if (isOdd(fn) || fn === sn) {
      r = nodeHash(p, r);
      // 4b.ii: skip the levels where this node is the lone right-most child.
      if (!isOdd(fn)) {
        while (!isOdd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    // 4c.
    fn = half(fn);
    sn = half(sn);
  }
  // Step 5: the path must reach exactly the root.
  return sn === 0 && bytesEqual(r, root);
}

/**
 * Consistency proof PROOF(oldSize, D[0:newSize]) of RFC 9162 2.1.4.1 (SUBPROOF with b = true).
 * Empty when `oldSize` is 0 or equals `newSize`: there is nothing to prove (the empty tree is
 * a prefix of every tree, and a tree of itself). Throws RangeError when
 * `oldSize > newSize` or `newSize` exceeds the leaves given.
 */
export function consistencyProof(leaves: readonly Uint8Array[], oldSize: number, newSize: number): Uint8Array[] {
  checkLeaves(leaves, newSize, 'consistencyProof');
  if (!isSize(oldSize) || oldSize > newSize) {
    throw new RangeError(`consistencyProof: old size ${oldSize} is not within [0, ${newSize}]`);
  }
  if (oldSize === 0 || oldSize === newSize) return [];
  const subproof = (m: number, start: number, end: number, b: boolean): Uint8Array[] => {
    const n = end - start;
    if (m === n) return b ? [] : [subtreeRoot(leaves, start, end)];
    const k = splitPoint(n);
    return m <= k
      ? [...subproof(m, start, start + k, b), subtreeRoot(leaves, start + k, end)]
      : [...subproof(m - k, start + k, end, false), subtreeRoot(leaves, start, start + k)];
  };
  return subproof(oldSize, 0, newSize, true);
}

/**
 * Verifies a consistency proof with the algorithm of RFC 9162 2.1.4.2: true iff the tree of
 * `newSize` leaves with root `newRoot` extends the tree of `oldSize` leaves with root `oldRoot`.
 * The two trivial cases the RFC algorithm leaves out are decided directly with an empty proof:
 * equal sizes need equal roots, and an empty old tree is consistent with anything. Never throws.
 */
export function verifyConsistency(
  oldSize: number,
  newSize: number,
  oldRoot: Uint8Array,
  newRoot: Uint8Array,
  proof: readonly Uint8Array[],
): boolean {
  if (!isSize(oldSize) || !isSize(newSize) || oldSize > newSize) return false;
  if (oldSize === newSize) return proof.length === 0 && bytesEqual(oldRoot, newRoot);
  if (oldSize === 0) return proof.length === 0 && bytesEqual(oldRoot, EMPTY_ROOT);
  // Step 1.
  if (proof.length === 0) return false;
  // Step 2: a power-of-two old tree is a complete subtree, so the proof omits its root.
  const path = isPowerOfTwo(oldSize) ? [oldRoot, ...proof] : [...proof];
  // Step 3-4.
  let fn = oldSize - 1;
  let sn = newSize - 1;
  while (isOdd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  // Step 5.
  let fr = path[0]!;
  let sr = path[0]!;
  // Step 6.
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (isOdd(fn) || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (!isOdd(fn)) {
        while (!isOdd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  // Step 7.
  return sn === 0 && bytesEqual(fr, oldRoot) && bytesEqual(sr, newRoot);
}
