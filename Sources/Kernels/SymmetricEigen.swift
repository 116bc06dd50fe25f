// Eigendecomposition of a real symmetric matrix in Double: LAPACK dsyevd (OpenBLAS), with a cyclic Jacobi
// reference beside it (KernelsTests holds them equal). Used by the Fréchet distance of rFID.
import CBLAS

public enum SymmetricEigen {
    /// a: [n, n] symmetric (row-major; only the upper triangle is read) → eigenvalues ascending, and with
    /// `vectors` the eigenvectors as the rows of [n, n] (row k belongs to value k).
    public static func decompose(_ a: [Double], n: Int, vectors: Bool) -> (values: [Double], vectors: [Double]) {
        precondition(a.count == n * n)
        if n == 0 { return ([], []) }
        var m = a, w = [Double](repeating: 0, count: n)
        var nn = Int32(n), lda = Int32(n), info: Int32 = 0
        let jobz: CChar = vectors ? 0x56 : 0x4E, uplo: CChar = 0x4C   // 'V' / 'N'; 'L' in column-major = the upper triangle row-major
        var jz = jobz, up = uplo
        // Workspace query, then the call.
        var lwork: Int32 = -1, liwork: Int32 = -1, wq = 0.0, iwq: Int32 = 0
        dsyevd_(&jz, &up, &nn, &m, &lda, &w, &wq, &lwork, &iwq, &liwork, &info, 1, 1)
        lwork = Int32(wq); liwork = max(1, iwq)
        var work = [Double](repeating: 0, count: max(1, Int(lwork))), iwork = [Int32](repeating: 0, count: Int(liwork))
        dsyevd_(&jz, &up, &nn, &m, &lda, &w, &work, &lwork, &iwork, &liwork, &info, 1, 1)
        precondition(info == 0, "dsyevd failed (info \(info))")
        // Column-major eigenvectors of the column-major view are, read row-major, the rows of m.
        return (w, vectors ? m : [])
    }

    /// Reference: cyclic Jacobi rotations until the off-diagonal mass is negligible. Values ascending,
    /// vectors as rows.
    public static func jacobi(_ a: [Double], n: Int) -> (values: [Double], vectors: [Double]) {
        var m = a, v = [Double](repeating: 0, count: n * n)
        for i in 0..<n { v[i * n + i] = 1 }
        for _ in 0..<100 {
            var off = 0.0
            for i in 0..<n { for j in 0..<n where i != j { off += m[i * n + j] * m[i * n + j] } }
            if off < 1e-26 { break }
            for p in 0..<n { for q in (p + 1)..<n where m[p * n + q] != 0 {
                let theta = (m[q * n + q] - m[p * n + p]) / (2 * m[p * n + q])
                let t = (theta >= 0 ? 1.0 : -1.0) / (abs(theta) + (theta * theta + 1).squareRoot())
                let c = 1 / (t * t + 1).squareRoot(), s = t * c
                for k in 0..<n {      // columns p, q
                    let mkp = m[k * n + p], mkq = m[k * n + q]
                    m[k * n + p] = c * mkp - s * mkq; m[k * n + q] = s * mkp + c * mkq
                }
                for k in 0..<n {      // rows p, q
                    let mpk = m[p * n + k], mqk = m[q * n + k]
                    m[p * n + k] = c * mpk - s * mqk; m[q * n + k] = s * mpk + c * mqk
                }
                for k in 0..<n {
                    let vkp = v[k * n + p], vkq = v[k * n + q]
                    v[k * n + p] = c * vkp - s * vkq; v[k * n + q] = s * vkp + c * vkq
                }
            } }
        }
        let order = (0..<n).sorted { m[$0 * n + $0] < m[$1 * n + $1] }
        var rows = [Double](repeating: 0, count: n * n)
        for (r, k) in order.enumerated() { for i in 0..<n { rows[r * n + i] = v[i * n + k] } }
        return (order.map { m[$0 * n + $0] }, rows)
    }
}
