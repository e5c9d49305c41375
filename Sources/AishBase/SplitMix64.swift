import FoundationEssentials
import Glibc

/// The one seedable generator (SplitMix64): small and fast, so weighted shuffles, load
/// arrivals, fuzz mutations and synthetic test data replay from a seed.
package struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64
    package init(seed: UInt64) { state = seed }
    package mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A number in 0..<n (0 when n <= 0).
    package mutating func below(_ n: Int) -> Int { n <= 0 ? 0 : Int(next() % UInt64(n)) }

    /// A number in [0, 1) with 53 random bits.
    package mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }

    /// Exponential with mean 1 (the gap between Poisson arrivals at rate 1).
    package mutating func exponential() -> Double { -log(1 - unit()) }

    /// Standard normal (Box–Muller; the second value of the pair is not kept).
    package mutating func normal() -> Double {
        let u = 1 - unit()   // (0, 1]: log(u) is finite
        return (-2 * log(u)).squareRoot() * cos(2 * Double.pi * unit())
    }

    /// Gamma with this shape and scale 1 (mean `shape`), by Marsaglia and Tsang's method;
    /// below shape 1, from shape + 1 scaled by U^(1/shape).
    package mutating func gamma(shape: Double) -> Double {
        precondition(shape > 0, "a gamma distribution's shape is positive")
        if shape < 1 { return gamma(shape: shape + 1) * pow(1 - unit(), 1 / shape) }
        let d = shape - 1.0 / 3, c = 1 / (9 * d).squareRoot()
        while true {
            var x: Double, v: Double
            repeat {
                x = normal()
                v = 1 + c * x
            } while v <= 0
            v = v * v * v
            let u = 1 - unit()
            if log(u) < 0.5 * x * x + d - d * v + d * log(v) { return d * v }
        }
    }
}
