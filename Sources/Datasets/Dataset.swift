import Foundation

/// Loaded data: a train split and an eval split of same-shape images, and how they were made. Both are
/// sources: in memory for the packaged sets; for image folders the eval split is decoded file by file (in
/// parallel, chunk by chunk) and the train split batch by batch through a bounded decode cache, so neither
/// need fit in memory. An image folder's train split may be empty (every file evaluated; nothing trains).
public struct Dataset: Sendable {
    public let spec: DatasetSpec
    public let train: any ImageSource  // [N_train, C, H, W]
    public let eval: any ImageSource   // [N_eval, C, H, W]
    public let splitDescription: String

    public var name: String { spec.kind.rawValue }

    /// The whole eval split in memory (for the paths that need it whole: protocol v1, `budget` tests). [N_eval, C, H, W]
    public func evalBatch() throws -> ImageBatch { try eval.read(0..<eval.count) }

    public init(spec: DatasetSpec, train: any ImageSource, eval: any ImageSource, splitDescription: String) {
        self.spec = spec; self.train = train; self.eval = eval; self.splitDescription = splitDescription
    }

    public static func load(_ spec: DatasetSpec) throws -> Dataset {
        try spec.checkAvailable()
        switch spec.kind {
        case .fashionMNIST: return try loadFashionMNIST(spec)
        case .imageFolder: return try loadImageFolder(spec)
        case .photos:
            guard !spec.path.isEmpty else { throw DatasetError("<photos>", "no cache directory for the photo tiles (DatasetSpec.withCache)") }
            return try loadPhotos(spec)
        case .cifar10: return try loadCIFAR10(spec)
        case .imagenet64: return try loadImageNet64(spec)
        }
    }

    /// Fashion-MNIST: train = the official train file (first `train_images` of a seeded
    /// permutation when capped); eval = `eval_images` of the official t10k file chosen by the seed.
    static func loadFashionMNIST(_ spec: DatasetSpec) throws -> Dataset {
        let dir = spec.path
        var train = try readIDXImages(path: spec.fashionFiles.train)
        var test = try readIDXImages(path: spec.fashionFiles.test)
        guard spec.evalImages <= test.count else {
            throw DatasetError(dir, "eval_images = \(spec.evalImages) but the t10k file has \(test.count) images")
        }
        test = test.seededSubset(spec.evalImages, seed: spec.seed)
        var trainNote = "all \(train.count) official train images"
        if let cap = spec.trainImages, cap < train.count {
            train = train.seededSubset(cap, seed: spec.seed &+ 1)
            trainNote = "\(cap) official train images chosen by seed \(spec.seed)"
        }
        if spec.resolution != 28 || spec.channels != 1 {
            train = conform(train, side: spec.resolution, channels: spec.channels)
            test = conform(test, side: spec.resolution, channels: spec.channels)
        }
        return Dataset(spec: spec, train: train, eval: test,
                       splitDescription: "train: \(trainNote); eval: \(spec.evalImages) of the official t10k images chosen by seed \(spec.seed)")
    }

    /// A folder of PNG/JPEG files: files are permuted by the seed; the first `eval_images` are
    /// eval, the rest train (none when eval_images takes them all). Each is brought to the resolution by
    /// the preprocessing (default: center-cropped to a square and area-resized). Every file's header is
    /// read here, so a file that cannot be read fails the load, not a training step.
    static func loadImageFolder(_ spec: DatasetSpec) throws -> Dataset {
        let files = try listImageFiles(spec.path, extensions: pngAndJPEGExtensions)
        let order = seededPermutation(files.count, seed: spec.seed)
        var trainFiles = order[spec.evalImages...].map { files[$0] }
        if let cap = spec.trainImages { trainFiles = Array(trainFiles.prefix(cap)) }
        let evalFiles = order[..<spec.evalImages].map { files[$0] }
        let preprocess = spec.preprocess ?? .area
        let train: any ImageSource
        if trainFiles.isEmpty {
            train = ImageBatch(count: 0, channels: spec.channels, height: spec.resolution, width: spec.resolution)
        } else {
            let source = try ImageFileSource(files: trainFiles, conformingTo: spec.resolution, channels: spec.channels, preprocess: preprocess)
            try source.checkHeaders()
            train = CachedImageSource(source)
        }
        let eval = try ImageFileSource(files: evalFiles, conformingTo: spec.resolution, channels: spec.channels, preprocess: preprocess)
        try eval.checkHeaders()
        return Dataset(spec: spec, train: train, eval: eval,
                       splitDescription: "\(files.count) PNG/JPEG files permuted by seed \(spec.seed): first \(spec.evalImages) eval, \(trainFiles.count) train; \(preprocess.summary) to \(spec.resolution)"
                           + (spec.preprocess == nil ? "" : " (preprocess = \"\(preprocess.rawValue)\")"))
    }

    /// The Debian photographs cut into tiles, split by source photo (never by tile).
    static func loadPhotos(_ spec: DatasetSpec) throws -> Dataset {
        let split = try PhotoSet.load(cacheDir: spec.path, tile: spec.resolution, evalPhotos: spec.evalPhotos, seed: spec.seed)
        var train = split.train, eval = split.eval
        if let cap = spec.trainImages, cap < train.count { train = train.seededSubset(cap, seed: spec.seed &+ 1) }
        if spec.evalImages < eval.count { eval = eval.seededSubset(spec.evalImages, seed: spec.seed &+ 2) }
        if spec.channels == 1 { train = convertChannels(train, to: 1); eval = convertChannels(eval, to: 1) }
        return Dataset(spec: spec, train: train, eval: eval,
                       splitDescription: "photos split by source photo with seed \(spec.seed): eval photos \(split.evalSources.map(PhotoSet.displayName).joined(separator: ", ")) (\(eval.count) tiles), \(split.trainSources.count) train photos (\(train.count) tiles); tiles \(spec.resolution)x\(spec.resolution)")
    }

    /// CIFAR-10: train = data_batch_1…5; eval = `eval_images` of test_batch chosen by the seed. Both are
    /// read record by record from the files (`CIFAR10ImageSource`), so neither split is held whole.
    static func loadCIFAR10(_ spec: DatasetSpec) throws -> Dataset {
        var train: any ImageSource = ConcatenatedImages(try spec.cifarFiles.train.map { try CIFAR10ImageSource(path: $0) })
        let testFile = try CIFAR10ImageSource(path: spec.cifarFiles.test)
        guard spec.evalImages <= testFile.count else { throw DatasetError(spec.cifarFiles.test, "eval_images = \(spec.evalImages) but it has \(testFile.count) images") }
        var test: any ImageSource = SubsetImages.seeded(testFile, spec.evalImages, seed: spec.seed)
        if let cap = spec.trainImages, cap < train.count { train = SubsetImages.seeded(train, cap, seed: spec.seed &+ 1) }
        if spec.resolution != 32 || spec.channels != 3 {
            train = ConformedImages(train, side: spec.resolution, channels: spec.channels)
            test = ConformedImages(test, side: spec.resolution, channels: spec.channels)
        }
        return Dataset(spec: spec, train: train, eval: test,
                       splitDescription: "CIFAR-10: train = data_batch_1-5 (\(train.count)); eval = \(spec.evalImages) of test_batch chosen by seed \(spec.seed)")
    }

    /// Downsampled ImageNet npz: train = train_data_batch_* (capped by `train_images`, taken in
    /// batch-number order: 1, 2, …, 10), eval = `eval_images` of val_data.npz chosen by the seed. A stored
    /// batch (np.savez, as downloaded) is read image by image from the file (`NPZImageSource`), so neither
    /// split is held whole; a deflated one (np.savez_compressed) is inflated whole.
    static func loadImageNet64(_ spec: DatasetSpec) throws -> Dataset {
        let files = try spec.imagenetFiles()
        func source(_ f: String) throws -> any ImageSource {
            try NPZImageSource.open(path: f, resolution: spec.resolution) ?? readImageNetNPZ(path: f, resolution: spec.resolution)
        }
        var parts: [any ImageSource] = [], have = 0
        for f in files.train where have < (spec.trainImages ?? .max) {
            let b = try source(f)
            parts.append(b); have += b.count
        }
        var train: any ImageSource = parts.isEmpty ? ImageBatch(count: 0, channels: 3, height: spec.resolution, width: spec.resolution)
                                                   : ConcatenatedImages(parts)
        if let cap = spec.trainImages, cap < train.count { train = FirstImages(train, count: cap) }
        let val = try source(files.eval)
        guard spec.evalImages <= val.count else { throw DatasetError(files.eval, "eval_images = \(spec.evalImages) but it has \(val.count) images") }
        var eval: any ImageSource = SubsetImages.seeded(val, spec.evalImages, seed: spec.seed)
        if spec.channels == 1 { train = ChannelsConverted(train, to: 1); eval = ChannelsConverted(eval, to: 1) }
        return Dataset(spec: spec, train: train, eval: eval,
                       splitDescription: "ImageNet \(spec.resolution)x\(spec.resolution) npz: train = first \(train.count) of \(files.train.count) train batches; eval = \(spec.evalImages) of val_data chosen by seed \(spec.seed)")
    }
}

/// Resizes every image of a batch to side × side and converts to `channels`
/// (gray → RGB by replication; RGB → gray by Rec. 601 luma, rounded).
public func conform(_ batch: ImageBatch, side: Int, channels: Int, preprocess: Preprocess = .area) -> ImageBatch {
    var parts: [ImageBatch] = []
    for i in 0..<batch.count {
        var img = batch.slice(i..<(i + 1))
        if img.height != side || img.width != side { img = preprocess.apply(img, side: side) }
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
