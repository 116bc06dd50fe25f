import XCTest
import Foundation
@testable import Experiments
import Store
import Datasets
import Metrics
import MetricCatalogue
import Tokenizers

/// The recorder's budget (the data's lossless rate, cached per eval split) and `tokbench eval`'s
/// file evaluation, outside the CLI.
final class RecorderTests: XCTestCase {
    func images(_ n: Int, seed: UInt64) -> ImageBatch {
        var s = seed
        return ImageBatch(count: n, channels: 1, height: 8, width: 8, pixels: (0..<(n * 64)).map { i in
            s = s &* 6364136223846793005 &+ 1442695040888963407
            return UInt8(truncatingIfNeeded: (i % 8) * 20 + Int(s >> 61))   // smooth rows plus a little noise
        })
    }

    func testBudgetIsMeasuredOnceAndCachedPerSplit() throws {
        let store = try ResultStore()
        var said: [String] = []
        let recorder = EvaluationRecorder(store: store, artifactDir: nil) { said.append($0) }
        let eval = images(6, seed: 1)
        let data = Dataset(spec: DatasetSpec(kind: .imageFolder, path: "/generated", resolution: 8, channels: 1, evalImages: 6), train: images(0, seed: 0),
                           eval: eval, splitDescription: "generated")
        let first = try recorder.budget(data, tokensPerImage: 4, capacity: 0.5)
        XCTAssertEqual(said.filter { $0.contains("measuring") }.count, 1)
        let rates = Dictionary(first.map { ($0.metric.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        // The budget is the best coder's bits per byte; each coder's rate is a real, round-tripped coding.
        let coders = DataRate.coders(forDataset: .imageFolder, channels: 1)
        let perCoder = coders.map { rates[Metric.dataBPB(coder: $0.rawValue).key]! }
        XCTAssertEqual(rates["data_bpb"], perCoder.min())
        XCTAssertEqual(rates["deficit_bpb"]!, perCoder.min()! - 0.5, accuracy: 1e-12)
        XCTAssertEqual(rates["min_log2v_lossless"]!, 64 * perCoder.min()! / 4, accuracy: 1e-12)   // H·W·C·b / L
        for m in try DataRate.measure(eval, coders: coders) {
            XCTAssertEqual(rates[Metric.dataBPB(coder: m.coder.rawValue).key]!, Double(m.bits) / Double(m.bytes), accuracy: 1e-12)
        }
        // The second run on the same split reads the cache: nothing is measured again, the numbers are the same.
        let second = try recorder.budget(data, tokensPerImage: 4, capacity: 0.5)
        XCTAssertEqual(said.filter { $0.contains("measuring") }.count, 1)
        XCTAssertEqual(second.map(\.value), first.map(\.value))
        // Another split (another seed) is another cache entry.
        let other = Dataset(spec: DatasetSpec(kind: .imageFolder, path: "/generated", resolution: 8, channels: 1, evalImages: 6, seed: 9),
                            train: data.train, eval: eval, splitDescription: "generated, another seed")
        _ = try recorder.budget(other, tokensPerImage: 4, capacity: nil)
        XCTAssertEqual(said.filter { $0.contains("measuring") }.count, 2)
    }

    func testEvalOfFilesRecordsAHandComputedRun() throws {
        let dir = NSTemporaryDirectory() + "tokbench-eval-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for sub in ["orig", "recon"] { try FileManager.default.createDirectory(atPath: dir + "/" + sub, withIntermediateDirectories: true) }
        let orig = images(3, seed: 2)
        var recon = orig
        for i in 0..<recon.pixels.count { recon.pixels[i] = recon.pixels[i] < 128 ? recon.pixels[i] + 2 : recon.pixels[i] - 2 }   // every byte off by 2
        for i in 0..<3 {
            try Data(encodePNG(orig, index: i)).write(to: URL(fileURLWithPath: dir + "/orig/im\(i).png"))
            try Data(encodePNG(recon, index: i)).write(to: URL(fileURLWithPath: dir + "/recon/im\(i).png"))
        }
        let store = try ResultStore()
        let evaluation = ExternalEvaluation(store: store, artifactDir: nil, cacheDir: dir + "/cache") { _ in }
        let id = try evaluation.evaluateFiles(originals: dir + "/orig", reconstructions: dir + "/recon", tokens: nil, vocabSize: nil,
                                              experiment: "files", label: "mine")
        let run = try XCTUnwrap(try store.runs([id]).first)
        XCTAssertEqual(try run.run.checkedStatus(), .finished)
        XCTAssertEqual(run.results["psnr"]!, 10 * log10(255.0 * 255 / 4), accuracy: 1e-9)   // MSE 4 on every image
        XCTAssertEqual(run.results["max_abs_error"], 2)
        XCTAssertNotNil(run.results["data_bpb"])
        XCTAssertNil(run.results["capacity_bpb"])   // no tokens given: no capacity
        // A reconstruction of another size is refused from its header, and nothing more is recorded.
        try Data(encodePNG(ImageBatch(count: 1, channels: 1, height: 9, width: 9))).write(to: URL(fileURLWithPath: dir + "/recon/im1.png"))
        XCTAssertThrowsError(try evaluation.evaluateFiles(originals: dir + "/orig", reconstructions: dir + "/recon", tokens: nil, vocabSize: nil,
                                                          experiment: "files", label: "bad")) { XCTAssertTrue("\($0)".contains("is 9x9, expected 8x8"), "\($0)") }
        XCTAssertEqual(try store.query("select count(*) from run").rows, [[.integer(1)]])
    }

    func testFilesThatAreSymbolicLinksAreMatchedByTheirOwnNames() throws {
        // Folders of links to the real files (how a user points at a subset without copying): images
        // are matched by the links' names, not by where the links lead.
        let dir = NSTemporaryDirectory() + "tokbench-links-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for sub in ["real", "orig", "recon"] { try FileManager.default.createDirectory(atPath: dir + "/" + sub, withIntermediateDirectories: true) }
        let orig = images(2, seed: 4)
        for i in 0..<2 {
            try Data(encodePNG(orig, index: i)).write(to: URL(fileURLWithPath: dir + "/real/src\(i).png"))
            for sub in ["orig", "recon"] {
                try FileManager.default.createSymbolicLink(atPath: dir + "/\(sub)/im\(i).png", withDestinationPath: dir + "/real/src\(i).png")
            }
        }
        let store = try ResultStore()
        let evaluation = ExternalEvaluation(store: store, artifactDir: nil, cacheDir: dir + "/cache") { _ in }
        let id = try evaluation.evaluateFiles(originals: dir + "/orig", reconstructions: dir + "/recon", tokens: nil, vocabSize: nil,
                                              experiment: "links", label: "links")
        let run = try XCTUnwrap(try store.runs([id]).first)
        XCTAssertEqual(run.results["max_abs_error"], 0)
    }
}
