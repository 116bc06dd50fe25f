import Foundation
import MetricCatalogue
import Datasets
import Tokenizers

/// One chunk of an evaluation: consecutive eval images (in eval order), what the tokenizer made of
/// them, and where they start in the split. Chunks always hold whole images.
///   originals, reconstructions: [B, C, H, W];  tokens: [B, L, S] (nil when only reconstructions are known)
public struct EvalChunk {
    public var first: Int                 // index of the chunk's first image in the split
    public var originals: ImageBatch
    public var reconstructions: ImageBatch
    public var tokens: Tokens?
    public init(first: Int, originals: ImageBatch, reconstructions: ImageBatch, tokens: Tokens?) {
        precondition(originals.count == reconstructions.count && originals.bytesPerImage == reconstructions.bytesPerImage,
                     "a chunk's originals and reconstructions must match")
        precondition(tokens.map { $0.count == originals.count } ?? true, "a chunk's tokens must match its images")
        self.first = first; self.originals = originals; self.reconstructions = reconstructions; self.tokens = tokens
    }
}

/// What an accumulator finishes into: catalogue values and per-image values ([N] each, eval order).
public struct Accumulated {
    public var values: [MetricValue] = []
    public var perImage: [(metric: Metric, values: [Double])] = []
    public init(values: [MetricValue] = [], perImage: [(metric: Metric, values: [Double])] = []) {
        self.values = values; self.perImage = perImage
    }
}

/// A final metric of the streaming evaluator (ARCHITECTURE.md, "Protocols"): it consumes the eval split
/// chunk by chunk, in order, and finishes into its values. Its state must not grow with the pixels it has
/// seen (per-image scalars and counts over the vocabulary are fine). Adding a metric is one accumulator
/// plus its catalogue entry, and a test that the accumulated figures equal the whole-split reference.
public protocol MetricAccumulator: AnyObject {
    func consume(_ chunk: EvalChunk) throws
    func finish() throws -> Accumulated
    /// The state after the chunks consumed so far, and back (a resumed evaluation continues where it stopped).
    func save(_ w: inout StateWriter) throws
    func restore(_ r: inout StateReader) throws
}

/// Wall time per evaluation stage (reading, each accumulator, the data rate, …), for `tokbench eval`'s
/// closing line and the evaluation benchmark: images per second of each stage.
public final class StageTimes: @unchecked Sendable {
    public private(set) var stages: [(name: String, seconds: Double)] = []
    let lock = NSLock()
    public init() {}

    public func time<T>(_ name: String, _ body: () throws -> T) rethrows -> T {
        let start = DispatchTime.now().uptimeNanoseconds
        defer { add(name, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9) }
        return try body()
    }

    public func add(_ name: String, _ seconds: Double) {
        lock.lock(); defer { lock.unlock() }
        if let i = stages.firstIndex(where: { $0.name == name }) { stages[i].seconds += seconds } else { stages.append((name, seconds)) }
    }

    /// "read 12.1 s (1653 img/s), fidelity 0.8 s (…), …" for `images` images.
    public func summary(images: Int) -> String {
        stages.map { s in
            "\(s.name) \(String(format: "%.1f", s.seconds)) s (\(s.seconds > 0 ? String(format: "%.0f", Double(images) / s.seconds) : "–") img/s)"
        }.joined(separator: ", ")
    }
}

/// What a resumable evaluation saves after each chunk (external protocol v2: a program that dies at chunk k
/// continues at chunk k): every accumulator writes its state in a fixed order, and reads it back the same
/// way. Little-endian binary; a short or malformed state is an error naming the file.
public struct StateWriter {
    public private(set) var bytes: [UInt8] = []
    public init() {}
    public mutating func int(_ v: Int) { var x = UInt64(bitPattern: Int64(v)).littleEndian; withUnsafeBytes(of: &x) { bytes += $0 } }
    public mutating func double(_ v: Double) { int(Int(Int64(bitPattern: v.bitPattern))) }
    public mutating func doubles(_ v: [Double]) { int(v.count); for x in v { double(x) } }
    public mutating func raw(_ v: [UInt8]) { int(v.count); bytes += v }
    public mutating func counts(_ d: [UInt32: Int]) { int(d.count); for k in d.keys.sorted() { int(Int(k)); int(d[k]!) } }
}

public struct StateReader {
    let bytes: [UInt8]
    let path: String
    var at = 0
    public init(_ bytes: [UInt8], path: String) { self.bytes = bytes; self.path = path }
    public func fail() -> DatasetError { DatasetError(path, "the saved evaluation state is truncated or malformed") }
    public mutating func int() throws -> Int {
        guard at + 8 <= bytes.count else { throw fail() }
        var x: UInt64 = 0
        for k in 0..<8 { x |= UInt64(bytes[at + k]) << (8 * UInt64(k)) }
        at += 8
        return Int(Int64(bitPattern: x))
    }
    public mutating func double() throws -> Double { Double(bitPattern: UInt64(bitPattern: Int64(try int()))) }
    mutating func count(_ bytesEach: Int) throws -> Int {
        let n = try int()
        guard n >= 0, n <= (bytes.count - at) / max(1, bytesEach) else { throw fail() }
        return n
    }
    public mutating func doubles() throws -> [Double] { try (0..<count(8)).map { _ in try double() } }
    public mutating func raw() throws -> [UInt8] {
        let n = try count(1)
        defer { at += n }
        return Array(bytes[at..<(at + n)])
    }
    public mutating func counts() throws -> [UInt32: Int] {
        var d: [UInt32: Int] = [:]
        for _ in 0..<(try count(16)) {
            let k = try int(), v = try int()
            guard (0...Int(UInt32.max)).contains(k), v >= 0 else { throw fail() }
            d[UInt32(k)] = v
        }
        return d
    }
    public var atEnd: Bool { at == bytes.count }
}

