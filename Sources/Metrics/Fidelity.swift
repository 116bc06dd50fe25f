import Foundation
import Datasets
import MetricCatalogue

/// Reconstruction fidelity of 8-bit images.
/// PSNR convention: per image 10·log10(255² / MSE) over its C·H·W bytes, then the mean over images.
/// An image reconstructed bit-exactly has MSE = 0; it counts at the PSNR of one byte off by one,
/// 10·log10(255²·C·H·W), the largest finite PSNR at that size — so a mean stays finite and
/// comparable. When every image is exact the set is lossless and PSNR is +∞ (flagged `lossless`).
public struct Fidelity: Equatable, Sendable {
    public var psnr: Double           // mean per-image PSNR, dB (+∞ when lossless)
    public var psnrOfMeanMSE: Double  // 10·log10(255² / mean MSE), dB
    public var mse: Double            // mean squared error per byte
    public var exactFraction: Double  // images reconstructed bit-exactly
    public var maxAbsError: Int       // largest |x − x̂| over all bytes
    public var perImagePSNR: [Double] // [B] per-image PSNR, dB, an exact image at the cap (finite)
    public var lossless: Bool { exactFraction == 1 }
}

public func meanSquaredError<A: Collection, B: Collection>(_ a: A, _ b: B) -> Double
where A.Element == UInt8, B.Element == UInt8 {
    precondition(a.count == b.count && a.count > 0)
    var sum = 0
    for (x, y) in zip(a, b) { let d = Int(x) - Int(y); sum += d * d }
    return Double(sum) / Double(a.count)
}

/// original, reconstruction: [B, C, H, W]
public func fidelity(original: ImageBatch, reconstruction: ImageBatch) -> Fidelity {
    precondition(original.count == reconstruction.count && original.bytesPerImage == reconstruction.bytesPerImage)
    let n = original.bytesPerImage
    let cap = 10 * log10(255.0 * 255.0 * Double(n))
    var psnrSum = 0.0, mseSum = 0.0, exact = 0, maxErr = 0
    var perImage = [Double](repeating: 0, count: original.count)
    for i in 0..<original.count {
        let a = original.pixels[(i * n)..<((i + 1) * n)], b = reconstruction.pixels[(i * n)..<((i + 1) * n)]
        let mse = meanSquaredError(a, b)
        for (x, y) in zip(a, b) { maxErr = max(maxErr, abs(Int(x) - Int(y))) }
        mseSum += mse
        perImage[i] = mse == 0 ? cap : 10 * log10(255.0 * 255.0 / mse)
        if mse == 0 { exact += 1 }
        psnrSum += perImage[i]
    }
    let count = Double(original.count)
    let meanMSE = mseSum / count
    return Fidelity(psnr: exact == original.count ? .infinity : psnrSum / count,
                    psnrOfMeanMSE: meanMSE == 0 ? .infinity : 10 * log10(255.0 * 255.0 / meanMSE),
                    mse: meanMSE, exactFraction: Double(exact) / count, maxAbsError: maxErr, perImagePSNR: perImage)
}

/// PSNR, MSE, exactness and the largest error, chunk by chunk: the same sums in the same order as
/// `fidelity(original:reconstruction:)`, so the figures are identical to the whole-split call.
public final class FidelityAccumulator: MetricAccumulator {
    var perImage: [Double] = []   // [N] per-image PSNR, dB
    var psnrSum = 0.0, mseSum = 0.0, exact = 0, maxErr = 0

    public init() {}

    public func consume(_ chunk: EvalChunk) {
        let a = chunk.originals, b = chunk.reconstructions, n = a.bytesPerImage
        let cap = 10 * log10(255.0 * 255.0 * Double(n))
        var mses = [Double](repeating: 0, count: a.count), maxes = [Int](repeating: 0, count: a.count)
        a.pixels.withUnsafeBufferPointer { pa in b.pixels.withUnsafeBufferPointer { pb in
            mses.withUnsafeMutableBufferPointer { m in maxes.withUnsafeMutableBufferPointer { mx in
                DispatchQueue.concurrentPerform(iterations: a.count) { i in
                    var sum = 0, worst = 0
                    for j in (i * n)..<((i + 1) * n) { let d = Int(pa[j]) - Int(pb[j]); sum += d * d; worst = max(worst, abs(d)) }
                    m[i] = Double(sum) / Double(n); mx[i] = worst
                }
            } }
        } }
        for i in 0..<a.count {
            let mse = mses[i]
            maxErr = max(maxErr, maxes[i])
            mseSum += mse
            let p = mse == 0 ? cap : 10 * log10(255.0 * 255.0 / mse)
            if mse == 0 { exact += 1 }
            psnrSum += p
            perImage.append(p)
        }
    }

    public func save(_ w: inout StateWriter) {
        w.doubles(perImage); w.double(psnrSum); w.double(mseSum); w.int(exact); w.int(maxErr)
    }

    public func restore(_ r: inout StateReader) throws {
        perImage = try r.doubles(); psnrSum = try r.double(); mseSum = try r.double(); exact = try r.int(); maxErr = try r.int()
    }

    public var fidelity: Fidelity {
        let count = Double(perImage.count)
        let meanMSE = mseSum / count
        return Fidelity(psnr: exact == perImage.count ? .infinity : psnrSum / count,
                        psnrOfMeanMSE: meanMSE == 0 ? .infinity : 10 * log10(255.0 * 255.0 / meanMSE),
                        mse: meanMSE, exactFraction: Double(exact) / count, maxAbsError: maxErr, perImagePSNR: perImage)
    }

    public func finish() -> Accumulated {
        let fid = fidelity
        var values: [MetricValue] = [
            (.psnr, fid.psnr), (.psnrOfMeanMSE, fid.psnrOfMeanMSE), (.mse, fid.mse), (.exactFraction, fid.exactFraction),
            (.lossless, fid.lossless ? 1 : 0), (.maxAbsError, Double(fid.maxAbsError)),
        ]
        if fid.psnr.isFinite, let h = Statistics.normalInterval(fid.perImagePSNR).halfWidth { values.append((.psnrCI95, h)) }
        return Accumulated(values: values, perImage: [(.psnr, fid.perImagePSNR)])
    }
}
