import Foundation
import Perceptual
import Experiments

/// `tokbench weights`: each file a perceptual metric can use, where it comes from, its SHA-256 and whether it is found.
public enum WeightsListing {
    public static func lines(folder: String, verify: Bool) -> [String] {
        var out = ["weights folder: \(folder)  (set TOKBENCH_WEIGHTS or --folder to change; get them: scripts/get-weights.sh \(folder))"]
        for f in WeightsCatalogue.all {
            let path = WeightsCatalogue.path(f, folder: folder)
            var state: String
            do {
                _ = try WeightsCatalogue.locate(f, folder: folder, for: f.usedBy)
                state = "found"
                if verify {
                    var h = SHA256Hasher()
                    if let handle = FileHandle(forReadingAtPath: path) {
                        while let chunk = try? handle.read(upToCount: 1 << 22), !chunk.isEmpty { h.update([UInt8](chunk)) }
                        try? handle.close()
                    }
                    state = h.finishHex() == f.sha256 ? "found, SHA-256 ok" : "found, SHA-256 MISMATCH"
                }
            } catch { state = "missing" }
            out.append("\(f.name)  [\(state)]  for \(f.usedBy)")
            out.append("  \(path)")
            out.append("  from \(f.source)")
            out.append("  sha256 \(f.sha256), \(f.bytes) bytes")
        }
        return out
    }
}
