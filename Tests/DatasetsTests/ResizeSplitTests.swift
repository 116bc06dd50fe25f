import XCTest
@testable import Datasets

final class ResizeSplitTests: XCTestCase {
    func testAreaResizeHalvesByAveraging() {
        // 4×4 → 2×2: each output is the mean of a 2×2 block (rounded half up).
        let img = ImageBatch(count: 1, channels: 1, height: 4, width: 4,
                             pixels: [0, 2, 10, 10,  4, 6, 10, 11,  100, 100, 0, 0,  100, 101, 0, 1])
        XCTAssertEqual(centerCropAreaResize(img, side: 2).pixels, [3, 10, 100, 0])  // 12/4, 41/4=10.25, 401/4=100.25, 1/4
    }

    func testCenterCropTakesTheMiddleSquare() {
        // 2×4 (H×W) → crop columns 1…2 → 2×2 unchanged values.
        let img = ImageBatch(count: 1, channels: 1, height: 2, width: 4, pixels: [1, 2, 3, 4, 5, 6, 7, 8])
        XCTAssertEqual(centerCropAreaResize(img, side: 2).pixels, [2, 3, 6, 7])
    }

    func testFractionalAreaResize() {
        // 3×3 → 2×2: output pixel 0 covers [0,1.5)²: weights 1, .5 per axis; area 2.25.
        let img = ImageBatch(count: 1, channels: 1, height: 3, width: 3, pixels: [9, 9, 0, 9, 9, 0, 0, 0, 0])
        // (1·1·9 + 1·.5·9 + .5·1·9 + .5·.5·9)/2.25 = 20.25/2.25 = 9
        XCTAssertEqual(centerCropAreaResize(img, side: 2).pixels[0], 9)
        XCTAssertEqual(centerCropAreaResize(img, side: 2).pixels[3], 1)  // .25·9/2.25 = 1
    }

    func testSeededPermutationIsDeterministicAndComplete() {
        let a = seededPermutation(100, seed: 7), b = seededPermutation(100, seed: 7), c = seededPermutation(100, seed: 8)
        XCTAssertEqual(a, b)
        XCTAssertNotEqual(a, c)
        XCTAssertEqual(a.sorted(), Array(0..<100))
    }

    func testChannelConversion() {
        let rgb = ImageBatch(count: 1, channels: 3, height: 1, width: 1, pixels: [255, 0, 0])
        XCTAssertEqual(convertChannels(rgb, to: 1).pixels, [76])  // 0.299·255 = 76.2
        let g = ImageBatch(count: 1, channels: 1, height: 1, width: 2, pixels: [5, 9])
        XCTAssertEqual(convertChannels(g, to: 3).pixels, [5, 9, 5, 9, 5, 9])
    }

    func testInterleavedRoundTrip() {
        let b = ImageBatch(count: 1, channels: 3, height: 2, width: 2, pixels: (0..<12).map(UInt8.init))
        XCTAssertEqual(b.interleaved(0), [0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11])
        XCTAssertEqual(ImageBatch.fromInterleaved(b.interleaved(0), channels: 3, height: 2, width: 2), b)
    }
}
