import Foundation
import Coding
import Datasets
import Experiments

/// What tokbench reads in a file, by its kind: images (PNG, JPEG), IDX, CIFAR-10 batches, npz
/// archives, experiment files, lossless-coder streams (.tbl). One line, or a one-line error.
public enum FileInspector {
    public static func describe(_ path: String) throws -> String {
        let name = (path as NSString).lastPathComponent.lowercased()
        if name.hasSuffix(".toml") {
            let e = try Experiment.load(path: path)
            return "experiment \(e.name): \(e.runs.count) runs on \(e.dataset.kind.rawValue)"
        }
        if name.contains("idx3-ubyte") {
            let b = try readIDXImages(path: path)
            return "IDX: \(b.count) images \(b.height)x\(b.width)"
        }
        if name.hasSuffix(".bin") {
            let (b, labels) = try readCIFAR10Batch(path: path)
            return "CIFAR-10 batch: \(b.count) images 32x32x3, labels \(Set(labels).sorted())"
        }
        if name.hasSuffix(".npz") {
            let keys = try npzKeys(path: path)
            guard keys.contains("data") else { throw DatasetError(path, "no array 'data' in npz; keys present: \(keys.joined(separator: ", "))") }
            let b = try readImageNetNPZ(path: path)
            return "npz: \(b.count) images \(b.height)x\(b.width)x\(b.channels) (keys \(keys.joined(separator: ", ")))"
        }
        if name.hasSuffix(".tbl") {
            let bytes = try readFileBytes(path)
            do {
                let d = try LosslessImageCoder.decode(bytes)
                return "lossless stream: \(d.width)x\(d.height)x\(d.channels), \(bytes.count) bytes"
            } catch { throw DatasetError(path, "lossless stream: \(error)") }
        }
        if name.hasSuffix(".tokens") {   // a token stream as the fuzzer feeds it: 3 images of 4×4 tokens, log2 V = 9
            let bytes = try readFileBytes(path)
            do {
                for context in TokenContext.allCases { _ = try TokenStreamCoder.decode(bytes, rows: 4, cols: 4, images: 3, log2V: 9, context: context) }
                return "token stream: 3 images of 4x4 tokens, log2 V = 9, \(bytes.count) bytes"
            } catch { throw DatasetError(path, "token stream: \(error)") }
        }
        let b = try readImage(path: path)
        return "image: \(b.width)x\(b.height), \(b.channels) channel\(b.channels == 1 ? "" : "s")"
    }
}
