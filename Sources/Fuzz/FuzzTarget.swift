// libFuzzer entry point for tokbench's decoders. Built only with TOKBENCH_FUZZ=1 (see
// scripts/fuzz.sh); FUZZ_TARGET picks the decoder: png, jpeg, idx, cifar, npz, toml, lossless, tokens,
// and the caps on what a small file may ask for: image-cap (a PNG or JPEG decoded under a 4096-pixel
// limit must hold at most 4096 pixels), npz-cap (an npz array read under a 4096-element check must hold
// at most 4096 elements).
// A decoder may throw on any input; it must never crash, hang or read out of bounds.
import Foundation
import Coding
import Datasets
import Experiments

let fuzzTarget = ProcessInfo.processInfo.environment["FUZZ_TARGET"] ?? "png"
let scratch = NSTemporaryDirectory() + "tokbench-fuzz-\(getpid()).npz"

@_cdecl("LLVMFuzzerTestOneInput")
public func tokbenchFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    switch fuzzTarget {
    case "png": _ = try? decodePNG(bytes, path: "fuzz")
    case "jpeg": _ = try? decodeJPEG(bytes, path: "fuzz")
    case "idx": _ = try? parseIDXImages(bytes, path: "fuzz")
    case "cifar": _ = try? parseCIFAR10Batch(bytes, path: "fuzz")
    case "npz":
        FileManager.default.createFile(atPath: scratch, contents: Data(bytes))
        _ = try? readNPZArray(path: scratch, key: "data")
    case "image-cap":
        if let b = try? decodePNG(bytes, path: "fuzz", maxPixels: 4096) { precondition(b.width * b.height <= 4096, "PNG past the pixel cap") }
        if let b = try? decodeJPEG(bytes, path: "fuzz", maxPixels: 4096) { precondition(b.width * b.height <= 4096, "JPEG past the pixel cap") }
    case "npz-cap":
        FileManager.default.createFile(atPath: scratch, contents: Data(bytes))
        let check: (NPYHeader) throws -> Void = { h in
            guard try h.elementCount(path: "fuzz", name: "data") <= 4096 else { throw DatasetError("fuzz", "over the cap") }
        }
        if let a = try? readNPZNumeric(path: scratch, key: "data", check: check) { precondition(a.count <= 4096, "npz array past the element cap") }
    case "toml": _ = try? Experiment.parse(text: String(decoding: bytes, as: UTF8.self), file: "fuzz.toml")
    case "lossless": _ = try? LosslessImageCoder.decode(bytes)
    case "tokens":
        for context in TokenContext.allCases { _ = try? TokenStreamCoder.decode(bytes, rows: 4, cols: 4, images: 3, log2V: 9, context: context) }
    default: fatalError("unknown FUZZ_TARGET \(fuzzTarget)")
    }
    return 0
}
