// A network over a batch of images: one image per worker, each with single-threaded GEMMs.
import Foundation
import Kernels
import Datasets

/// `body(i)` for every i in 0..<n, spread over the workers, OpenBLAS on one thread meanwhile.
func forEachImage(_ n: Int, _ body: (Int) -> Void) {
    let workers = max(1, min(Threading.workers, n))
    withSerialBLAS {
        withoutActuallyEscaping(body) { body in
            DispatchQueue.concurrentPerform(iterations: workers) { t in
                var i = t
                while i < n { body(i); i += workers }
            }
        }
    }
}

extension InceptionFeatures {
    /// pool3 features of every image of the batch: [B, width], in the FID input convention.
    public func features(of batch: ImageBatch) -> [Float] {
        let d = width
        var out = [Float](repeating: 0, count: batch.count * d)
        out.withUnsafeMutableBufferPointer { o in
            let base = o.baseAddress!
            forEachImage(batch.count) { i in
                let f = features(FIDInput.prepare(batch, image: i))
                for j in 0..<d { base[i * d + j] = f[j] }
            }
        }
        return out
    }
}

extension LPIPSNetwork {
    /// The distance of each pair (a[i], b[i]) of two batches of one geometry: [B].
    public func distances(_ a: ImageBatch, _ b: ImageBatch) -> [Double] {
        precondition(a.count == b.count && a.bytesPerImage == b.bytesPerImage)
        var out = [Double](repeating: 0, count: a.count)
        out.withUnsafeMutableBufferPointer { o in
            let base = o.baseAddress!
            forEachImage(a.count) { i in
                base[i] = distance(LPIPSNetwork.prepare(a, image: i), LPIPSNetwork.prepare(b, image: i)).total
            }
        }
        return out
    }
}
