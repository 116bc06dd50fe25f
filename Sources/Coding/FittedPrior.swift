// Fitted priors: the initial state of the residual model learned on a training split and shipped
// as a compact constant table, so a 784-byte image does not pay for learning what every image
// of its kind shares (background is 0, residuals near the silhouette are large, …).
//
// Contents (gray models only, slot 0):
//   per active model, per context, per node: an Int8 = stretch(p) / 16 (logit in 1/16 units),
//     started with `confidence` hits (13 models, 1287 contexts × 64 nodes ≈ 82 KB);
//   the three mixers' weight sets as Int16 (16.16 weights / 16).
// Serialized: "FP", version 2, confidence, fitted node count, model count, table bytes,
// mixer weights (little endian). Anything that does not match the current model layout is
// rejected (the fitted variant then cannot be used rather than decoding wrongly).

import Foundation

public struct FittedPrior: Sendable, Equatable {
    var table: [Int8]            // [models, contexts, fittedNodes]
    var mixer1: [Int16]          // [selectors, inputs]
    var mixer2: [Int16]
    var mixer3: [Int16]
    public var confidence: Int

    static let grayModels: [Int] = ResidualModel(channels: 1).active
    static var tableCount: Int { grayModels.reduce(0) { $0 + ResidualModel.sizes[$1] } * ResidualModel.fittedNodes.count }
    static var mixer1Count: Int { ResidualModel.nodes * (grayModels.count + 1) }
    static var mixer2Count: Int { 64 * (grayModels.count + 1) }
    static var mixer3Count: Int { 81 * 4 * (grayModels.count + 1) }

    /// The prior fitted on Fashion-MNIST train images (see FittedPriorData.swift), if present.
    public static let fashionMNIST: FittedPrior? = {
        guard let data = Data(base64Encoded: FittedPriorData.fashionMNIST, options: .ignoreUnknownCharacters) else { return nil }
        return FittedPrior(serialized: [UInt8](data))
    }()

    init(table: [Int8], mixer1: [Int16], mixer2: [Int16], mixer3: [Int16], confidence: Int) {
        self.table = table; self.mixer1 = mixer1; self.mixer2 = mixer2; self.mixer3 = mixer3
        self.confidence = confidence
    }

    public init?(serialized b: [UInt8]) {
        let headerCount = 6
        guard b.count == headerCount + Self.tableCount + 2 * (Self.mixer1Count + Self.mixer2Count + Self.mixer3Count),
              b[0] == 0x46, b[1] == 0x50, b[2] == 2,
              Int(b[4]) == ResidualModel.fittedNodes.count, Int(b[5]) == Self.grayModels.count
        else { return nil }
        confidence = Int(b[3])
        var pos = headerCount
        table = b[pos..<(pos + Self.tableCount)].map { Int8(bitPattern: $0) }
        pos += Self.tableCount
        func int16s(_ n: Int) -> [Int16] {
            defer { pos += 2 * n }
            return (0..<n).map { Int16(bitPattern: UInt16(b[pos + 2 * $0]) | UInt16(b[pos + 2 * $0 + 1]) << 8) }
        }
        mixer1 = int16s(Self.mixer1Count)
        mixer2 = int16s(Self.mixer2Count)
        mixer3 = int16s(Self.mixer3Count)
    }

    public func serialized() -> [UInt8] {
        var b: [UInt8] = [0x46, 0x50, 2, UInt8(min(confidence, 255)),
                          UInt8(ResidualModel.fittedNodes.count), UInt8(Self.grayModels.count)]
        b += table.map { UInt8(bitPattern: $0) }
        for w in mixer1 + mixer2 + mixer3 { b.append(UInt8(UInt16(bitPattern: w) & 255)); b.append(UInt8(UInt16(bitPattern: w) >> 8)) }
        return b
    }

    /// The gray models' bit-model table in its initial state, built once per prior and
    /// confidence (applying then costs one array copy, not a loop over 76k cells).
    func initialTable() -> BitModelTable {
        var m = ResidualModel(channels: 1)
        var k = 0
        for model in Self.grayModels {
            for c in 0..<ResidualModel.sizes[model] {
                for node in ResidualModel.fittedNodes {
                    let st = Int(table[k]) * 16
                    m.table.set(m.offset[model] + c * ResidualModel.nodes + node, p16: Logistic.squash16(st), count: confidence)
                    k += 1
                }
            }
        }
        return m.table
    }

    /// Set a gray residual model's initial state from this prior.
    func apply(to m: inout ResidualModel) {
        m.table = FittedPrior.cache.table(for: self)
        for i in 0..<mixer1.count { m.mixer.weights[i] = Int32(mixer1[i]) * 16 }
        for i in 0..<mixer2.count { m.mixer2.weights[i] = Int32(mixer2[i]) * 16 }
        for i in 0..<mixer3.count { m.mixer3.weights[i] = Int32(mixer3[i]) * 16 }
    }

    static let cache = TableCache()
}

/// Remembers the initial tables of the most recently used prior (thread-safe).
final class TableCache: @unchecked Sendable {
    private let lock = NSLock()
    private var key: FittedPrior?
    private var value: BitModelTable? = nil

    func table(for prior: FittedPrior) -> BitModelTable {
        lock.lock(); defer { lock.unlock() }
        if key != prior || value == nil { value = prior.initialTable(); key = prior }
        return value!
    }
}
