// Online least-squares predictor (the TMW / MRP / paq8px "OLS" idea): the value is predicted
// as a linear combination w·x of causal neighbours, with w re-fitted at every pixel to minimise
// the exponentially forgotten squared error over everything coded so far:
//   C ← λ·C + (1−λ)·x·xᵀ,   b ← λ·b + (1−λ)·x·v,   w = (C + εI)⁻¹ b   (Cholesky).
// It learns the image's own linear structure (edge directions, inter-channel slopes) that the
// fixed sub-predictors only approximate. Doubles are used, in a fixed operation order, so encoder
// and decoder compute bit-identical predictions (no fast-math, no reassociation).

struct OnlineLeastSquares {
    let n: Int                      // number of features
    let lambda: Double
    let epsilon: Double
    var cov: [Double]               // [n, n]
    var rhs: [Double]               // [n]
    var weights: [Double]           // [n]
    var chol: [Double]              // [n, n] scratch
    var features: [Double]          // [n] current x
    var samples = 0

    init(features n: Int, lambda: Double, epsilon: Double = 0.5) {
        self.n = n
        self.lambda = lambda
        self.epsilon = epsilon
        cov = [Double](repeating: 0, count: n * n)
        rhs = [Double](repeating: 0, count: n)
        weights = [Double](repeating: 0, count: n)
        chol = [Double](repeating: 0, count: n * n)
        features = [Double](repeating: 0, count: n)
    }

    /// Set the first seven features (the own-channel neighbours).
    mutating func setFeatures(_ n0: Int, _ n1: Int, _ n2: Int, _ n3: Int, _ n4: Int, _ n5: Int, _ n6: Int) {
        features[0] = Double(n0); features[1] = Double(n1); features[2] = Double(n2)
        features[3] = Double(n3); features[4] = Double(n4); features[5] = Double(n5)
        features[6] = Double(n6)
    }

    /// Predict from `features` (set by the caller) with the current weights.
    func predict() -> Double {
        var s = 0.0
        for i in 0..<n { s += weights[i] * features[i] }
        return s
    }

    /// Fold the true value of the current pixel in and re-solve for the weights.
    mutating func update(value: Double) {
        let a = lambda, b1 = 1 - lambda
        for i in 0..<n {
            let xi = features[i]
            for j in 0...i {
                let v = a * cov[i * n + j] + b1 * xi * features[j]
                cov[i * n + j] = v
            }
            rhs[i] = a * rhs[i] + b1 * xi * value
        }
        samples += 1
        solve()
    }

    /// Cholesky factorisation of C + εI (lower triangle of `cov`), then two triangular solves.
    /// On a non-positive pivot (degenerate data) the previous weights are kept.
    mutating func solve() {
        for i in 0..<n {
            for j in 0...i {
                var s = cov[i * n + j] + (i == j ? epsilon : 0)
                for k in 0..<j { s -= chol[i * n + k] * chol[j * n + k] }
                if i == j {
                    if s <= 1e-9 { return }
                    chol[i * n + i] = s.squareRoot()
                } else {
                    chol[i * n + j] = s / chol[j * n + j]
                }
            }
        }
        // L y = rhs, then Lᵀ w = y (y stored in weights; the factorisation succeeded).
        for i in 0..<n {
            var s = rhs[i]
            for k in 0..<i { s -= chol[i * n + k] * weights[k] }
            weights[i] = s / chol[i * n + i]
        }
        var i = n - 1
        while i >= 0 {
            var s = weights[i]
            for k in (i + 1)..<n { s -= chol[k * n + i] * weights[k] }
            weights[i] = s / chol[i * n + i]
            i -= 1
        }
    }
}
