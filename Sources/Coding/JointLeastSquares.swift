// The three colour channels' online least-squares fits (OnlineLeastSquares) advanced together, one
// SIMD lane per channel (lane c = channel c; lane 3 is padding). Every lane does the operations of
// OnlineLeastSquares.update + solve in the same order — no fused multiply-add, no reassociation —
// so the weights, and therefore every coded byte, are bit-identical to three separate fits
// (LosslessImageCoderTests and JointLeastSquaresTests hold this). Why: the refit is a chain of
// divisions and square roots whose latency, not its arithmetic, bounds the coder's speed; three
// independent chains in one vector cost about what one costs.
//
// The fits advance once per pixel, after all three channels are coded: channel c's weights from
// pixel p are first used to predict channel c at pixel p + 1, so refitting G after B (instead of
// before R) changes nothing.

struct JointLeastSquares {
    typealias Lanes = SIMD4<Double>
    let n: Int                          // features per channel
    let lambda: Double
    let epsilon: Double
    var cov: [Lanes]                    // [n, n] lower triangle used
    var rhs: [Lanes]                    // [n]
    var weights: [Lanes]                // [n]
    var features: [Lanes]               // [n] this pixel's x, per lane
    var values = Lanes.zero             // this pixel's true values, per lane
    var chol: [Lanes]                   // [n, n] scratch
    var solved: [Lanes]                 // [n] scratch (y, then w)

    init(features n: Int, lambda: Double, epsilon: Double = 0.5) {
        self.n = n
        self.lambda = lambda
        self.epsilon = epsilon
        cov = [Lanes](repeating: .zero, count: n * n)
        rhs = [Lanes](repeating: .zero, count: n)
        weights = [Lanes](repeating: .zero, count: n)
        features = [Lanes](repeating: .zero, count: n)
        chol = [Lanes](repeating: .zero, count: n * n)
        solved = [Lanes](repeating: .zero, count: n)
    }

    /// Set feature i of channel c.
    @inline(__always) mutating func setFeature(_ i: Int, channel c: Int, _ v: Int) { features[i][c] = Double(v) }

    /// Channel c's prediction w·x, summed in feature order (as OnlineLeastSquares.predict).
    func predict(channel c: Int) -> Double {
        var s = 0.0
        for i in 0..<n { s += weights[i][c] * features[i][c] }
        return s
    }

    /// Fold every channel's true value of this pixel in (set with `values[c]`) and re-solve.
    mutating func update() {
        let n = n
        let a = Lanes(repeating: lambda), b1 = Lanes(repeating: 1 - lambda)
        let v = values
        cov.withUnsafeMutableBufferPointer { cov in
        rhs.withUnsafeMutableBufferPointer { rhs in
        features.withUnsafeBufferPointer { x in
            for i in 0..<n {
                let xi = x[i]
                for j in 0...i { cov[i * n + j] = a * cov[i * n + j] + b1 * xi * x[j] }
                rhs[i] = a * rhs[i] + b1 * xi * v
            }
        } } }
        solve()
    }

    /// Cholesky of C + εI and the two triangular solves, lane by lane as OnlineLeastSquares.solve;
    /// a lane whose pivot is ≤ 1e-9 keeps its previous weights (the others are updated).
    mutating func solve() {
        let n = n
        let eps = Lanes(repeating: epsilon), tiny = Lanes(repeating: 1e-9)
        var failed = SIMDMask<SIMD4<Int64>>(repeating: false)
        cov.withUnsafeBufferPointer { cov in
        chol.withUnsafeMutableBufferPointer { L in
        rhs.withUnsafeBufferPointer { rhs in
        solved.withUnsafeMutableBufferPointer { w in
            for i in 0..<n {
                for j in 0...i {
                    var s = cov[i * n + j] + (i == j ? eps : .zero)
                    for k in 0..<j { s -= L[i * n + k] * L[j * n + k] }
                    if i == j {
                        failed .|= s .<= tiny
                        L[i * n + i] = s.squareRoot()
                    } else {
                        L[i * n + j] = s / L[j * n + j]
                    }
                }
            }
            for i in 0..<n {
                var s = rhs[i]
                for k in 0..<i { s -= L[i * n + k] * w[k] }
                w[i] = s / L[i * n + i]
            }
            var i = n - 1
            while i >= 0 {
                var s = w[i]
                for k in (i + 1)..<n { s -= L[k * n + i] * w[k] }
                w[i] = s / L[i * n + i]
                i -= 1
            }
        } } } }
        if !any(failed) {
            weights = solved
        } else {
            for i in 0..<n { weights[i].replace(with: solved[i], where: .!failed) }
        }
    }
}
