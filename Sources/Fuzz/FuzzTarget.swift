// libFuzzer entry point for tokbench's decoders. Built only with TOKBENCH_FUZZ=1 (see
// scripts/fuzz.sh); FUZZ_TARGET picks the decoder: png, jpeg, idx, cifar, npz, toml, lossless, tokens.
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
    case "toml": _ = try? Experiment.parse(text: String(decoding: bytes, as: UTF8.self), file: "fuzz.toml")
    case "lossless": _ = try? LosslessImageCoder.decode(bytes)
    case "tokens":
        for context in TokenContext.allCases { _ = try? TokenStreamCoder.decode(bytes, rows: 4, cols: 4, images: 3, log2V: 9, context: context) }
    default: fatalError("unknown FUZZ_TARGET \(fuzzTarget)")
    }
    return 0
}
