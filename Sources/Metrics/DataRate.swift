import Foundation
import Coding
import Datasets

/// The data's own lossless bits per byte: every eval image coded on its own (state reset, header
/// included, like one file each), total coded bits ÷ raw bytes — by tokbench's coder (cold start,
/// and with its Fashion-MNIST prior where that applies) and by PNG (libpng, zlib level 9) as the
/// familiar reference. The budget a tokenizer is measured against is the best of them.
public enum DataRate {
    /// Bumped whenever a coder changes, so cached figures are recomputed.
    public static let version = "coders-1"

    /// The lossless coders the budget is measured with.
    public enum Coder: String, Sendable, CaseIterable {
        case tokbenchCold = "tokbench-cold"       // tokbench's coder, cold start
        case tokbenchFitted = "tokbench-fitted"   // tokbench's coder with the Fashion-MNIST prior
        case png                                  // libpng, zlib level 9

        /// The coder of this name; an unknown name is an error, never a silent fallback.
        public init(name: String) throws {
            guard let c = Coder(rawValue: name) else {
                throw DatasetError("<data rate>", "unknown coder \"\(name)\" (known: \(Coder.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            self = c
        }
    }

    public struct Measurement: Sendable, Equatable {
        public var coder: Coder
        public var bits: Int          // total coded bits over the images
        public var bytes: Int         // total raw bytes
        public var seconds: Double    // encode time (all images, all threads)
        public var bitsPerByte: Double { Double(bits) / Double(bytes) }
    }

    /// The coders that apply to a dataset: the fitted prior was fitted on the Fashion-MNIST train split.
    public static func coders(forDataset kind: DatasetSpec.Kind, channels: Int) -> [Coder] {
        [.tokbenchCold] + (kind == .fashionMNIST && channels == 1 ? [.tokbenchFitted] : []) + [.png]
    }

    /// images: [B, C, H, W]. Each image is coded independently, in parallel.
    public static func measure(_ images: ImageBatch, coders: [Coder]) throws -> [Measurement] {
        let a = DataRateAccumulator(coders: coders)
        try a.consume(images)
        return a.measurements
    }

    /// Coded bytes of each image of `images` by `coder`, the images in parallel. [B]
    static func sizes(_ images: ImageBatch, coder: Coder) throws -> [Int] {
        var sizes = [Int](repeating: 0, count: images.count)
        var failure: String? = nil
        let lock = NSLock()
        sizes.withUnsafeMutableBufferPointer { sz in
            DispatchQueue.concurrentPerform(iterations: images.count) { i in
                let hwc = images.interleaved(i)
                switch coder {
                case .tokbenchCold, .tokbenchFitted:
                    sz[i] = LosslessImageCoder.encode(pixels: hwc, width: images.width, height: images.height, channels: images.channels,
                                                      model: coder == .tokbenchFitted ? .fitted : .coldStart).count
                case .png:
                    do { sz[i] = try encodePNG(images, index: i, level: 9).count } catch {
                        lock.lock(); failure = "\(error)"; lock.unlock()
                    }
                }
            }
        }
        if let f = failure { throw DatasetError("<\(coder.rawValue)>", f) }
        return sizes
    }

    /// Round trip of tokbench's coder on every image (the rate is only honest if decoding works).
    public static func verifyRoundTrip(_ images: ImageBatch, model: LosslessImageCoder.Model) throws {
        var bad = [Bool](repeating: false, count: images.count)
        bad.withUnsafeMutableBufferPointer { bad in
            DispatchQueue.concurrentPerform(iterations: images.count) { i in
                let hwc = images.interleaved(i)
                let coded = LosslessImageCoder.encode(pixels: hwc, width: images.width, height: images.height, channels: images.channels, model: model)
                bad[i] = (try? LosslessImageCoder.decode(coded).pixels) != hwc
            }
        }
        if let i = bad.firstIndex(of: true) { throw DatasetError("<tokbench coder>", "image \(i) does not round-trip") }
    }
}

/// The data rate chunk by chunk: each chunk's images coded on all cores by every coder, the bits summed.
/// Only when the split's rate is not cached yet (see EvaluationRecorder.budget).
public final class DataRateAccumulator {
    let coders: [DataRate.Coder]
    public private(set) var measurements: [DataRate.Measurement]

    public init(coders: [DataRate.Coder]) {
        self.coders = coders
        measurements = coders.map { DataRate.Measurement(coder: $0, bits: 0, bytes: 0, seconds: 0) }
    }

    public func save(_ w: inout StateWriter) {
        for m in measurements { w.int(m.bits); w.int(m.bytes); w.double(m.seconds) }
    }

    public func restore(_ r: inout StateReader) throws {
        for k in measurements.indices { measurements[k].bits = try r.int(); measurements[k].bytes = try r.int(); measurements[k].seconds = try r.double() }
    }

    /// images: [B, C, H, W], the next images of the split.
    public func consume(_ images: ImageBatch) throws {
        for (k, coder) in coders.enumerated() {
            let start = Date()
            let sizes = try DataRate.sizes(images, coder: coder)
            measurements[k].bits += 8 * sizes.reduce(0, +)
            measurements[k].bytes += images.pixels.count
            measurements[k].seconds += Date().timeIntervalSince(start)
        }
    }
}
