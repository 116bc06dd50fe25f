import XCTest
import Foundation
import Datasets
import Tokenizers
import MetricCatalogue
@testable import Metrics

/// The intervals and aggregates the reports and `tokbench compare` print, against hand-computed cases.
final class StatisticsTests: XCTestCase {
    func testMeanStdAndIntervalsByHand() {
        // x = 1, 2, 3, 4: mean 2.5; squared deviations 2.25 + 0.25 + 0.25 + 2.25 = 5; s² = 5/3.
        let x: [Double] = [1, 2, 3, 4]
        XCTAssertEqual(Statistics.mean(x), 2.5)
        XCTAssertEqual(Statistics.std(x)!, (5.0 / 3).squareRoot(), accuracy: 1e-15)
        XCTAssertNil(Statistics.std([7]))
        // Normal: 1.959964 · 1.290994 / 2 = 1.265151.
        let n = Statistics.normalInterval(x)
        XCTAssertEqual(n.halfWidth!, 1.959963984540054 * (5.0 / 3).squareRoot() / 2, accuracy: 1e-12)
        XCTAssertEqual(n.halfWidth!, 1.265151, accuracy: 1e-6)
        // Student's t, 3 degrees of freedom: 3.182446 · 1.290994 / 2 = 2.054260.
        let t = Statistics.tInterval(x)
        XCTAssertEqual(t.halfWidth!, 2.054260, accuracy: 1e-6)
        XCTAssertEqual(t.low!, 2.5 - 2.054260, accuracy: 1e-6)
        XCTAssertTrue(t.excludesZero)
        XCTAssertFalse(Statistics.tInterval([-1, 1, 0.5]).excludesZero)
        XCTAssertNil(Statistics.tInterval([3]).halfWidth)
        XCTAssertFalse(Statistics.tInterval([3]).excludesZero)   // one value: no interval, never "distinguishable"
    }

    func testStudentQuantilesAgainstPublishedTables() {
        // Two-sided 95% critical values (any statistics table).
        XCTAssertEqual(Statistics.t95(df: 1), 12.706, accuracy: 5e-4)
        XCTAssertEqual(Statistics.t95(df: 2), 4.303, accuracy: 5e-4)
        XCTAssertEqual(Statistics.t95(df: 9), 2.262, accuracy: 5e-4)
        XCTAssertEqual(Statistics.t95(df: 30), 2.042, accuracy: 5e-4)
        XCTAssertEqual(Statistics.t95(df: 40), 2.021, accuracy: 5e-4)   // beyond the table: Cornish–Fisher
        XCTAssertEqual(Statistics.t95(df: 60), 2.000, accuracy: 5e-4)
        XCTAssertEqual(Statistics.t95(df: 120), 1.980, accuracy: 5e-4)
    }

    func testPairedDifferenceByHand() {
        // a − b = 1, 0, 1, 1: mean 0.75; deviations² 0.0625·3 + 0.5625 = 0.75; s² = 0.25, s = 0.5;
        // half-width 1.959964 · 0.5 / 2 = 0.489991.
        let d = Statistics.pairedDifference([30, 31, 32, 33], [29, 31, 31, 32])
        XCTAssertEqual(d.mean, 0.75)
        XCTAssertEqual(d.std!, 0.5, accuracy: 1e-15)
        XCTAssertEqual(d.halfWidth!, 0.489991, accuracy: 1e-6)
        XCTAssertEqual(d.n, 4)
        XCTAssertTrue(d.excludesZero)
    }

    func testEvaluatorStoresPerImageValuesAndTheirInterval() throws {
        // Two 1×4 images reconstructed with MSE 1 and 100: per-image PSNR 48.13 and 28.13 dB.
        let a = ImageBatch(count: 2, channels: 1, height: 1, width: 4, pixels: [0, 0, 0, 0, 0, 0, 0, 0])
        let b = ImageBatch(count: 2, channels: 1, height: 1, width: 4, pixels: [1, 1, 1, 1, 10, 10, 10, 10])
        let r = try Evaluator.measure(a, TokenizerOutputs(tokens: nil, reconstruction: b, log2Vocab: nil, seconds: 0))
        let psnr = r.perImage.first { $0.metric == .psnr }!.values
        XCTAssertEqual(psnr[0], 48.130803608679, accuracy: 1e-9)
        XCTAssertEqual(psnr[1], 28.130803608679, accuracy: 1e-9)
        // s = 20/√2 = 14.1421; half-width = 1.959964 · 14.1421 / √2 = 19.59964.
        XCTAssertEqual(r.value(.psnrCI95)!, 19.59964, accuracy: 1e-5)
        // Flat images: variances and covariance vanish, so SSIM = (2·μx·μy + C1) / (μx² + μy² + C1), C1 = (0.01·255)²:
        // 0 against 1: 6.5025 / 7.5025; 0 against 10: 6.5025 / 106.5025. The stored mean is theirs.
        let ssim = r.perImage.first { $0.metric == .ssim }!.values
        XCTAssertEqual(ssim.count, 2)
        XCTAssertEqual(ssim[0], 6.5025 / 7.5025, accuracy: 1e-12)
        XCTAssertEqual(ssim[1], 6.5025 / 106.5025, accuracy: 1e-12)
        XCTAssertEqual(r.value(.ssim)!, (6.5025 / 7.5025 + 6.5025 / 106.5025) / 2, accuracy: 1e-12)
    }
}
