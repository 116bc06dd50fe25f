import Foundation
import Coding
import Datasets
import Metrics

/// `tokbench bench lossless`: bits per byte and speed of tokbench's coder next to PNG (libpng,
/// level 9) and, when installed, JPEG XL (cjxl -d 0 -e 7), WebP (cwebp -lossless -z 9) and
/// optipng (-o7), on the same images, each image one file.
public enum LosslessBench {
    public struct Row {
        public var coder: String; public var bits: Int; public var bytes: Int; public var seconds: Double; public var note: String
        public var images: Int; public var cores: Int   // cores the coder ran on (tokbench and PNG: all, in parallel; tools: one process at a time)
        public var imagesPerSecondPerCore: Double { Double(images) / seconds / Double(cores) }
    }

    /// The images to code: the first `count` Fashion-MNIST test images, or a dataset's eval split.
    public static func images(dataset: String, count: Int, seed: UInt64, cacheDir: String, folder: String? = nil) throws -> (ImageBatch, String) {
        switch dataset {
        case "fashion-mnist":
            let spec = DatasetSpec(kind: .fashionMNIST)
            try spec.checkAvailable()
            let b = try readIDXImages(path: spec.fashionFiles.test, limit: count)
            return (b, "the first \(b.count) Fashion-MNIST test images")
        case "photos":
            let d = try Dataset.load(DatasetSpec(kind: .photos, evalImages: count, seed: seed).withCache(cacheDir))
            return (try d.evalBatch(), "\(d.eval.count) eval tiles of the photos set (\(d.splitDescription))")
        case "folder":
            guard let folder else { throw DatasetError("folder", "give --path DIR (a folder of same-size PNG/JPEG files)") }
            let files = Array(try listImageFiles(folder, extensions: pngAndJPEGExtensions).prefix(count))
            guard !files.isEmpty else { throw DatasetError(folder, "no PNG or JPEG files") }
            let source = try ImageFileSource(files: files)
            return (try source.read(0..<files.count), "the first \(files.count) files of \(folder) (sorted by name), \(source.width)x\(source.height)x\(source.channels)")
        default:
            throw DatasetError(dataset, "bench lossless knows fashion-mnist, photos and folder")
        }
    }

    /// tools: the external coders to run (nil: all that are installed).
    public static func run(_ images: ImageBatch, tools only: Set<String>? = nil, say: (String) -> Void) throws -> [Row] {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        var rows: [Row] = []
        let models: [LosslessImageCoder.Model] = images.channels == 1 ? [.coldStart, .fitted] : [.coldStart]
        let verified = min(images.count, 500)   // decoding every image would double the benchmark's time
        for model in models {
            try DataRate.verifyRoundTrip(try images.read(0..<verified), model: model)
            let m = try DataRate.measure(images, coders: [model == .fitted ? .tokbenchFitted : .tokbenchCold])[0]
            rows.append(Row(coder: model == .fitted ? "tokbench (Fashion-MNIST prior)" : "tokbench (cold start)", bits: m.bits, bytes: m.bytes, seconds: m.seconds,
                            note: "round trip verified\(verified < images.count ? " on the first \(verified)" : ""); \(cores) threads",
                            images: images.count, cores: cores))
        }
        let png = try DataRate.measure(images, coders: [.png])[0]
        rows.append(Row(coder: "PNG (libpng, zlib -9)", bits: png.bits, bytes: png.bytes, seconds: png.seconds, note: "\(cores) threads", images: images.count, cores: cores))

        // External tools, one process per image file.
        let dir = NSTemporaryDirectory() + "tokbench-lossless-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var inputs: [String] = []
        for i in 0..<images.count {
            let p = dir + "/\(i).png"
            try Data(encodePNG(images, index: i, level: 9)).write(to: URL(fileURLWithPath: p))
            inputs.append(p)
        }
        let tools: [(name: String, exe: String, args: (String, String) -> [String], ext: String)] = [
            ("JPEG XL (cjxl -d 0 -e 7)", "cjxl", { i, o in [i, o, "-d", "0", "-e", "7", "--quiet"] }, "jxl"),
            ("WebP (cwebp -lossless -z 9)", "cwebp", { i, o in ["-quiet", "-lossless", "-z", "9", i, "-o", o] }, "webp"),
            ("PNG (optipng -o7)", "optipng", { i, o in ["-quiet", "-o7", "-out", o, i] }, "opt.png"),
        ]
        for t in tools where only.map({ $0.contains(t.exe) }) ?? true {
            guard let exe = which(t.exe) else { say("  \(t.exe) not installed: skipped"); continue }
            let start = Date()
            var bits = 0
            for (i, input) in inputs.enumerated() {
                let out = dir + "/\(i).\(t.ext)"
                try? FileManager.default.removeItem(atPath: out)
                let p = Process()
                p.executableURL = URL(fileURLWithPath: exe)
                p.arguments = t.args(input, out)
                p.standardOutput = FileHandle.nullDevice; p.standardError = FileHandle.nullDevice
                try p.run(); p.waitUntilExit()
                guard p.terminationStatus == 0, let size = (try? FileManager.default.attributesOfItem(atPath: out))?[.size] as? Int else {
                    throw DatasetError(t.exe, "failed on \(input)")
                }
                bits += 8 * size
            }
            rows.append(Row(coder: t.name, bits: bits, bytes: images.pixels.count, seconds: Date().timeIntervalSince(start), note: "one process per file", images: images.count, cores: 1))
        }
        return rows
    }

    static func which(_ name: String) -> String? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":") {
            let p = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return nil
    }
}
