import XCTest
@testable import Datasets

/// The preprocessing presets against the reference pipelines, pixel for pixel: Fixtures/preprocess holds
/// RGB images of awkward sizes and what guided-diffusion's `center_crop_arr` (Pillow) and torchvision's
/// Resize(R, BICUBIC) + CenterCrop(R) make of them (bench/make_preprocess_fixtures.py: Pillow 13.0,
/// torchvision 0.29; committed, tests never run it).
final class PreprocessTests: XCTestCase {
    func fixture(_ name: String) throws -> ImageBatch {
        try readImage(path: Bundle.module.path(forResource: "Fixtures/preprocess/" + name, ofType: nil)!)
    }

    func testPresetsEqualTheReferencePipelinesExactly() throws {
        // a: downscale 97×61 → 24; b: portrait, where Pillow 13 runs the vertical pass first (130 → 65 shrinks
        // more than twice 61 → 30); c: two box halvings (200×150 → 100×75 → 50×37); d: upscale 40×33 → 48.
        // e: a JPEG, decoded by Pillow (libjpeg-turbo) for the references and by tokbench's reader here.
        for (name, size, r) in [("a", "97x61.png", 24), ("b", "61x130.png", 24), ("c", "200x150.png", 24), ("d", "40x33.png", 48), ("e", "120x90.jpg", 32)] {
            let input = try fixture("\(name)-\(size)")
            for preset in [Preprocess.adm, .torchvision] {
                let want = try fixture("\(name)-\(preset.rawValue)-\(r).png")
                let got = preset.apply(input, side: r)
                XCTAssertEqual([got.channels, got.height, got.width], [3, r, r])
                let differing = zip(got.pixels, want.pixels).filter { $0 != $1 }.count
                XCTAssertEqual(differing, 0, "\(name) \(preset.rawValue): \(differing) of \(want.pixels.count) bytes differ")
            }
        }
    }

    func testBoxHalvingRoundsHalfUpAndBicubicKeepsFlatImages() {
        // PIL's BOX to half size: each output is (a + b + 1) / 2 floored, here per row pair too.
        var im = ImageBatch(count: 1, channels: 1, height: 2, width: 4)
        im.pixels = [10, 13, 200, 201,
                     10, 13, 0, 1]
        let half = PILResample.resize(im, width: 2, height: 1, filter: .box)
        // Rows first: [12, 201] and [12, 1] (11.5 and 200.5 round up), then columns: (12+12+1)/2 = 12, (201+1+1)/2 = 101.
        XCTAssertEqual(half.pixels, [12, 101])
        // Bicubic weights sum to 1 after normalisation: a flat image stays flat at any size.
        var flat = ImageBatch(count: 1, channels: 3, height: 7, width: 9)
        flat.pixels = [UInt8](repeating: 77, count: flat.pixels.count)
        for (w, h) in [(4, 3), (9, 20), (13, 5)] {
            XCTAssertEqual(Set(PILResample.resize(flat, width: w, height: h, filter: .bicubic).pixels), [77])
        }
    }

    func testAreaIsTheDefaultAndUnchanged() {
        var im = ImageBatch(count: 1, channels: 1, height: 6, width: 8)
        for i in 0..<im.pixels.count { im.pixels[i] = UInt8(i * 5) }
        XCTAssertEqual(Preprocess.area.apply(im, side: 3).pixels, centerCropAreaResize(im, side: 3).pixels)
        XCTAssertEqual(conform(im, side: 3, channels: 1).pixels, centerCropAreaResize(im, side: 3).pixels)
    }
}
