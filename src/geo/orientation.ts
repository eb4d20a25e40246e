// Exact orientation of three points and exact closed-segment intersection, in plain lon/lat (edges
// are straight there, RFC 7946). A sign computed in doubles alone can be wrong for nearly collinear
// points, and then a vertex lying on another edge (a touch) is seen on one side or the other at
// random; these answers are exact for every finite double. The double result is used whenever
// Shewchuk's error bound proves its sign (nearly always); otherwise the determinant is summed
// exactly from error-free products (~0.5 µs), or, for coordinates beyond 2^±400 where those products
// could underflow or overflow, with BigInt from the doubles' binary values (~2 µs).

/** (3 + 16ε)ε with ε = 2^-53: Shewchuk's bound on the rounding error of the double determinant. */
const ERROR_BOUND = (3 + 16 * 2 ** -53) * 2 ** -53
/** absorbs the absolute error of products that underflow (≤ 2^-1074 each) */
const UNDERFLOW = 1e-300

/**
 * Sign of the turn a → b → c: 1 counter-clockwise (c left of the line a→b), -1 clockwise, 0 collinear.
 * Exact for any finite coordinates.
 */
export function orientation(ax: number, ay: number, bx: number, by: number, cx: number, cy: number): -1 | 0 | 1 {
  const acx = ax - cx, bcy = by - cy, acy = ay - cy, bcx = bx - cx
  const left = acx * bcy, right = acy * bcx
  const det = left - right
  if (Math.abs(det) > ERROR_BOUND * (Math.abs(left) + Math.abs(right)) + UNDERFLOW) return det > 0 ? 1 : -1
  // a difference of doubles is 0 only when they are equal: both products then are exactly 0
  if ((acx === 0 || bcy === 0) && (acy === 0 || bcx === 0)) return 0
  const extreme = outside(ax) || outside(ay) || outside(bx) || outside(by) || outside(cx) || outside(cy)
  return extreme ? bigIntOrientation(ax, ay, bx, by, cx, cy) : expansionOrientation(ax, ay, bx, by, cx, cy)
}

/** where an error-free product could underflow (or its split overflow): never a longitude or latitude */
const outside = (x: number) => x !== 0 && (Math.abs(x) < 2 ** -400 || Math.abs(x) > 2 ** 400)

/** 2^27 + 1: Veltkamp's splitter, cuts a double into two halves of 26 bits */
const SPLITTER = 134_217_729
const terms = new Float64Array(12)
const sum = new Float64Array(12)

/** a·b = terms[i] + terms[i + 1] exactly (Dekker's product; no overflow or underflow for these magnitudes) */
function twoProduct(a: number, b: number, i: number): void {
  const x = a * b
  let c = SPLITTER * a
  const ahi = c - (c - a), alo = a - ahi
  c = SPLITTER * b
  const bhi = c - (c - b), blo = b - bhi
  terms[i] = x
  terms[i + 1] = alo * blo - (((x - ahi * bhi) - alo * bhi) - ahi * blo)
}

/**
 * The determinant as the exact sum of six products (ax·by − ay·bx + bx·cy − by·cx + cx·ay − cy·ax),
 * added with Shewchuk's Grow-Expansion: the partial sums stay an expansion of non-overlapping
 * components in increasing magnitude, so the last one carries the sign.
 */
function expansionOrientation(ax: number, ay: number, bx: number, by: number, cx: number, cy: number): -1 | 0 | 1 {
  twoProduct(ax, by, 0)
  twoProduct(-ay, bx, 2)
  twoProduct(bx, cy, 4)
  twoProduct(-by, cx, 6)
  twoProduct(cx, ay, 8)
  twoProduct(-cy, ax, 10)
  let length = 0
  for (let i = 0; i < 12; i++) {
    let q = terms[i]!
    let kept = 0
    for (let j = 0; j < length; j++) {
      const e = sum[j]!
      const total = q + e
      const virtual = total - q
      const error = (q - (total - virtual)) + (e - virtual) // Knuth's TwoSum: q + e = total + error exactly
      q = total
      if (error !== 0) sum[kept++] = error
    }
    if (q !== 0) sum[kept++] = q
    length = kept
  }
  const top = length === 0 ? 0 : sum[length - 1]!
  return top > 0 ? 1 : top < 0 ? -1 : 0
}

const bits = new DataView(new ArrayBuffer(8))

/** A finite double as mantissa · 2^(exponent − 1074), both integers. */
function binary(x: number): { mantissa: bigint, exponent: number } {
  bits.setFloat64(0, x)
  const hi = bits.getUint32(0), lo = bits.getUint32(4)
  const biased = (hi >>> 20) & 0x7ff
  let mantissa = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo)
  if (biased !== 0) mantissa |= 1n << 52n // normal numbers have the implicit leading 1
  if (hi >>> 31) mantissa = -mantissa
  return { mantissa, exponent: biased === 0 ? 0 : biased - 1 }
}

function bigIntOrientation(ax: number, ay: number, bx: number, by: number, cx: number, cy: number): -1 | 0 | 1 {
  const parts = [ax, ay, bx, by, cx, cy].map(binary)
  // every value as an integer multiple of the smallest power of two among them
  const lowest = Math.min(...parts.map((p) => p.exponent))
  const [iax, iay, ibx, iby, icx, icy] = parts.map((p) => p.mantissa << BigInt(p.exponent - lowest)) as [bigint, bigint, bigint, bigint, bigint, bigint]
  const det = (iax - icx) * (iby - icy) - (iay - icy) * (ibx - icx)
  return det > 0n ? 1 : det < 0n ? -1 : 0
}

/** c is within the bounding box of a–b; with orientation(a, b, c) = 0, c is on the segment. */
const within = (ax: number, ay: number, bx: number, by: number, cx: number, cy: number) =>
  Math.min(ax, bx) <= cx && cx <= Math.max(ax, bx) && Math.min(ay, by) <= cy && cy <= Math.max(ay, by)

/**
 * A point the closed segments p1–p2 and p3–p4 share, or undefined when they are disjoint. Proper
 * crossings, a vertex touching the other segment and collinear overlaps all count. For a proper
 * crossing the point is computed in doubles (near the crossing, for a message); otherwise it is one
 * of the four vertices, exactly.
 */
export function segmentsMeet(
  x1: number, y1: number, x2: number, y2: number,
  x3: number, y3: number, x4: number, y4: number,
): [number, number] | undefined {
  const d1 = orientation(x3, y3, x4, y4, x1, y1)
  const d2 = orientation(x3, y3, x4, y4, x2, y2)
  if (d1 === d2 && d1 !== 0) return undefined // p1 and p2 strictly on the same side of p3–p4
  const d3 = orientation(x1, y1, x2, y2, x3, y3)
  const d4 = orientation(x1, y1, x2, y2, x4, y4)
  if (d3 === d4 && d3 !== 0) return undefined
  if (d1 !== 0 && d2 !== 0 && d3 !== 0 && d4 !== 0) {
    // each segment's ends on both sides of the other: a proper crossing
    const t = ((x3 - x1) * (y4 - y3) - (y3 - y1) * (x4 - x3)) / ((x2 - x1) * (y4 - y3) - (y2 - y1) * (x4 - x3))
    return [x1 + t * (x2 - x1), y1 + t * (y2 - y1)]
  }
  // one end lies on the other segment's line: they meet if it lies on the segment itself (this also
  // covers collinear overlaps, which always hold an end of one segment inside the other)
  if (d1 === 0 && within(x3, y3, x4, y4, x1, y1)) return [x1, y1]
  if (d2 === 0 && within(x3, y3, x4, y4, x2, y2)) return [x2, y2]
  if (d3 === 0 && within(x1, y1, x2, y2, x3, y3)) return [x3, y3]
  if (d4 === 0 && within(x1, y1, x2, y2, x4, y4)) return [x4, y4]
  return undefined
}
