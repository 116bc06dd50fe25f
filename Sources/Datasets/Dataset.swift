import Foundation

/// Loaded data: a train split and an eval split of same-shape images, and how they were made.
public struct Dataset: Sendable {
    public let spec: DatasetSpec
    public let train: ImageBatch   // [N_train, C, H, W]
    public let eval: ImageBatch    // [N_eval, C, H, W]
    public let splitDescription: String

    public var name: String { spec.kind.rawValue }

    public init(spec: DatasetSpec, train: ImageBatch, eval: ImageBatch, splitDescription: String) {
        self.spec = spec; self.train = train; self.eval = eval; self.splitDescription = splitDescription
    }

    public static func load(_ spec: DatasetSpec) throws -> Dataset {
        try spec.checkAvailable()
        switch spec.kind {
        case .fashionMNIST: return try loadFashionMNIST(spec)
        case .pngFolder: return try loadPNGFolder(spec)
        }
    }

    /// Fashion-MNIST: train = the official train file (first `train_images` of a seeded
    /// permutation when capped); eval = `eval_images` of the official t10k file chosen by the seed.
    static func loadFashionMNIST(_ spec: DatasetSpec) throws -> Dataset {
        let dir = spec.path
        var train = try readIDXImages(path: (dir as NSString).appendingPathComponent("train-images-idx3-ubyte.gz"))
        var test = try readIDXImages(path: (dir as NSString).appendingPathComponent("t10k-images-idx3-ubyte.gz"))
        guard spec.evalImages <= test.count else {
            throw DatasetError(dir, "eval_images = \(spec.evalImages) but the t10k file has \(test.count) images")
        }
        let evalIdx = Array(seededPermutation(test.count, seed: spec.seed).prefix(spec.evalImages)).sorted()
        test = test.subset(evalIdx)
        var trainNote = "all \(train.count) official train images"
        if let cap = spec.trainImages, cap < train.count {
            train = train.subset(Array(seededPermutation(train.count, seed: spec.seed &+ 1).prefix(cap)).sorted())
            trainNote = "\(cap) official train images chosen by seed \(spec.seed)"
        }
        if spec.resolution != 28 || spec.channels != 1 {
            train = conform(train, side: spec.resolution, channels: spec.channels)
            test = conform(test, side: spec.resolution, channels: spec.channels)
        }
        return Dataset(spec: spec, train: train, eval: test,
                       splitDescription: "train: \(trainNote); eval: \(spec.evalImages) of the official t10k images chosen by seed \(spec.seed)")
    }

    /// A folder of PNG files: files are permuted by the seed; the first `eval_images` are eval,
    /// the rest train. Each is center-cropped to a square and area-resized.
    static func loadPNGFolder(_ spec: DatasetSpec) throws -> Dataset {
        let files = try listImageFiles(spec.path)
        let order = seededPermutation(files.count, seed: spec.seed)
        var images: [ImageBatch] = []
        for i in order {
            let img = try readPNG(path: files[i])
            images.append(conform(img, side: spec.resolution, channels: spec.channels))
        }
        var trainPart = Array(images[spec.evalImages...])
        if let cap = spec.trainImages { trainPart = Array(trainPart.prefix(cap)) }
        return Dataset(spec: spec, train: ImageBatch.concatenate(trainPart),
                       eval: ImageBatch.concatenate(Array(images[..<spec.evalImages])),
                       splitDescription: "\(files.count) PNG files permuted by seed \(spec.seed): first \(spec.evalImages) eval, \(trainPart.count) train; center crop + area resize to \(spec.resolution)")
    }
}

/// Resizes every image of a batch to side × side and converts to `channels`
/// (gray → RGB by replication; RGB → gray by Rec. 601 luma, rounded).
public func conform(_ batch: ImageBatch, side: Int, channels: Int) -> ImageBatch {
    var parts: [ImageBatch] = []
    for i in 0..<batch.count {
        var img = batch.slice(i..<(i + 1))
        if img.height != side || img.width != side { img = centerCropAreaResize(img, side: side) }
        parts.append(convertChannels(img, to: channels))
    }
    return ImageBatch.concatenate(parts)
}

public func convertChannels(_ img: ImageBatch, to channels: Int) -> ImageBatch {
    if img.channels == channels { return img }
    let plane = img.height * img.width
    var out = ImageBatch(count: img.count, channels: channels, height: img.height, width: img.width)
    for b in 0..<img.count {
        let src = b * img.bytesPerImage, dst = b * out.bytesPerImage
        if channels == 3 {
            for c in 0..<3 { for p in 0..<plane { out.pixels[dst + c * plane + p] = img.pixels[src + p] } }
        } else {
            for p in 0..<plane {
                let r = Int(img.pixels[src + p]), g = Int(img.pixels[src + plane + p]), bl = Int(img.pixels[src + 2 * plane + p])
                out.pixels[dst + p] = UInt8((299 * r + 587 * g + 114 * bl + 500) / 1000)
            }
        }
    }
    return out
}
