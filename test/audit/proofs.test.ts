import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EMPTY_ROOT, frontierAppend, frontierRoot, leafHash, rootFromLeaves, toHex } from '../../src/audit/merkle.js';
import { consistencyProof, inclusionProof, rootAt, verifyConsistency, verifyInclusion } from '../../src/audit/proofs.js';

// RFC 6962 section 2.1, written out literally and independently of src/audit/merkle.ts.
function sha256(...parts: Uint8Array[]): Uint8Array {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}
function naiveMth(data: readonly Uint8Array[]): Uint8Array {
  if (data.length === 0) return sha256();
  if (data.length === 1) return sha256(Uint8Array.of(0), data[0]!);
  let k = 1;
  while (k * 2 < data.length) k *= 2;
  return sha256(Uint8Array.of(1), naiveMth(data.slice(0, k)), naiveMth(data.slice(k)));
}

const data = (n: number): Uint8Array[] => Array.from({ length: n }, (_, i) => new TextEncoder().encode(`entry-${i}`));
const DATA = data(301);
const LEAVES = DATA.map((d) => leafHash(d));
const hex = (b: Uint8Array): string => toHex(b);
const flip = (b: Uint8Array, at: number, bit: number): Uint8Array => {
  const c = b.slice();
  c[at % c.length]! ^= 1 << bit;
  return c;
};
const flipIn = (list: readonly Uint8Array[], which: number, at: number, bit: number): Uint8Array[] =>
  list.map((x, i) => (i === which ? flip(x, at, bit) : x));

// Test vectors of the certificate-transparency reference implementation (RFC 6962 trees).
const CT_LEAVES = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map((h) =>
  leafHash(Buffer.from(h, 'hex')),
);
const CT_ROOTS = [
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];

describe('Merkle roots', () => {
  it('match the certificate-transparency test vectors', () => {
    expect(hex(rootAt(CT_LEAVES, 0))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    CT_ROOTS.forEach((root, i) => expect(hex(rootAt(CT_LEAVES, i + 1))).toBe(root));
  });

  it('frontierAppend/frontierRoot and rootFromLeaves equal the naive RFC 6962 MTH at every size up to 300', () => {
    let frontier: Uint8Array[] = [];
    expect(hex(frontierRoot(frontier))).toBe(hex(naiveMth([])));
    for (let n = 1; n <= 300; n++) {
      frontier = frontierAppend(frontier, n - 1, LEAVES[n - 1]!);
      const naive = hex(naiveMth(DATA.slice(0, n)));
      expect(hex(frontierRoot(frontier))).toBe(naive);
      expect(hex(rootFromLeaves(LEAVES.slice(0, n)))).toBe(naive);
      // The frontier holds one subtree per set bit of n.
      expect(frontier.length).toBe(n.toString(2).replace(/0/g, '').length);
    }
  });
});

describe('inclusion proofs (RFC 9162 2.1.3)', () => {
  it('matches the certificate-transparency inclusion vector for leaf 0 of 8', () => {
    expect(inclusionProof(CT_LEAVES, 0, 8).map(hex)).toEqual([
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ]);
  });

  it('every proof verifies against the naive root; any changed byte, index or size fails', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 300 }).chain((size) =>
          fc.record({
            size: fc.constant(size),
            index: fc.nat(size - 1),
            other: fc.nat(size - 1),
            otherSize: fc.integer({ min: 1, max: 301 }),
            at: fc.nat(31),
            bit: fc.nat(7),
            which: fc.nat(),
          }),
        ),
        ({ size, index, other, otherSize, at, bit, which }) => {
          const root = naiveMth(DATA.slice(0, size));
          const leaf = LEAVES[index]!;
          const proof = inclusionProof(LEAVES, index, size);
          expect(verifyInclusion(leaf, index, size, proof, root)).toBe(true);
          expect(verifyInclusion(flip(leaf, at, bit), index, size, proof, root)).toBe(false);
          expect(verifyInclusion(leaf, index, size, proof, flip(root, at, bit))).toBe(false);
          if (proof.length > 0) {
            expect(verifyInclusion(leaf, index, size, flipIn(proof, which % proof.length, at, bit), root)).toBe(false);
            expect(verifyInclusion(leaf, index, size, proof.slice(0, -1), root)).toBe(false);
          }
          expect(verifyInclusion(leaf, index, size, [...proof, LEAVES[0]!], root)).toBe(false);
          if (other !== index) expect(verifyInclusion(leaf, other, size, proof, root)).toBe(false);
          // A proof does not authenticate the tree size by itself (the signed checkpoint does): it
          // also verifies for a size whose path has the same shape (leaf 0 of 129 and of 162).
          // A size with a differently long path, or one the index does not fit, must fail.
          if (index >= otherSize || inclusionProof(LEAVES, index, otherSize).length !== proof.length) {
            expect(verifyInclusion(leaf, index, otherSize, proof, root)).toBe(false);
          }
        },
      ),
      { numRuns: 400 },
    );
  });

  it('rejects out-of-range arguments', () => {
    expect(() => inclusionProof(LEAVES, 5, 5)).toThrow(RangeError);
    expect(() => inclusionProof(LEAVES.slice(0, 3), 0, 4)).toThrow(RangeError);
    expect(verifyInclusion(LEAVES[0]!, 0, 0, [], EMPTY_ROOT)).toBe(false);
    expect(verifyInclusion(LEAVES[0]!, -1, 1, [], LEAVES[0]!)).toBe(false);
    expect(verifyInclusion(LEAVES[0]!, 0, 1, [], LEAVES[0]!)).toBe(true);
  });
});

describe('consistency proofs (RFC 9162 2.1.4)', () => {
  it('every proof verifies against the naive roots; any changed byte or size fails', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 300 }).chain((newSize) =>
          fc.record({
            newSize: fc.constant(newSize),
            oldSize: fc.integer({ min: 1, max: newSize }),
            otherOld: fc.integer({ min: 1, max: 300 }),
            otherNew: fc.integer({ min: 1, max: 301 }),
            at: fc.nat(31),
            bit: fc.nat(7),
            which: fc.nat(),
          }),
        ),
        ({ newSize, oldSize, otherOld, otherNew, at, bit, which }) => {
          const oldRoot = naiveMth(DATA.slice(0, oldSize));
          const newRoot = naiveMth(DATA.slice(0, newSize));
          const proof = consistencyProof(LEAVES, oldSize, newSize);
          expect(verifyConsistency(oldSize, newSize, oldRoot, newRoot, proof)).toBe(true);
          expect(verifyConsistency(oldSize, newSize, flip(oldRoot, at, bit), newRoot, proof)).toBe(false);
          expect(verifyConsistency(oldSize, newSize, oldRoot, flip(newRoot, at, bit), proof)).toBe(false);
          if (proof.length > 0) {
            expect(verifyConsistency(oldSize, newSize, oldRoot, newRoot, flipIn(proof, which % proof.length, at, bit))).toBe(false);
            expect(verifyConsistency(oldSize, newSize, oldRoot, newRoot, proof.slice(1))).toBe(false);
          }
          expect(verifyConsistency(oldSize, newSize, oldRoot, newRoot, [...proof, LEAVES[0]!])).toBe(false);
          // As for inclusion, only sizes whose proof has another shape are told apart by the proof.
          const shapeDiffers = (m: number, n: number): boolean => m > n || n > 301 || consistencyProof(LEAVES, m, n).length !== proof.length;
          if (otherOld !== oldSize && shapeDiffers(otherOld, newSize)) {
            expect(verifyConsistency(otherOld, newSize, oldRoot, newRoot, proof)).toBe(false);
          }
          if (otherNew !== newSize && shapeDiffers(oldSize, otherNew)) {
            expect(verifyConsistency(oldSize, otherNew, oldRoot, newRoot, proof)).toBe(false);
          }
          // A root of a different tree of the same size is not consistent.
          if (oldSize < newSize) {
            const forked = naiveMth([...DATA.slice(0, oldSize - 1), new TextEncoder().encode('forged')]);
            expect(verifyConsistency(oldSize, newSize, forked, newRoot, proof)).toBe(false);
          }
        },
      ),
      { numRuns: 400 },
    );
  });

  it('decides the trivial cases: equal sizes and the empty tree', () => {
    const root5 = rootAt(LEAVES, 5);
    expect(consistencyProof(LEAVES, 5, 5)).toEqual([]);
    expect(verifyConsistency(5, 5, root5, root5, [])).toBe(true);
    expect(verifyConsistency(5, 5, root5, rootAt(LEAVES, 4), [])).toBe(false);
    expect(verifyConsistency(5, 5, root5, root5, [LEAVES[0]!])).toBe(false);
    expect(consistencyProof(LEAVES, 0, 7)).toEqual([]);
    expect(verifyConsistency(0, 7, EMPTY_ROOT, rootAt(LEAVES, 7), [])).toBe(true);
    expect(verifyConsistency(0, 7, LEAVES[0]!, rootAt(LEAVES, 7), [])).toBe(false);
    expect(verifyConsistency(6, 5, root5, root5, [])).toBe(false);
    expect(() => consistencyProof(LEAVES, 6, 5)).toThrow(RangeError);
    expect(() => consistencyProof(LEAVES.slice(0, 4), 2, 5)).toThrow(RangeError);
  });
});
