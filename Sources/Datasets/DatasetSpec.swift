import Foundation

/// What an experiment asks for: which data, at what size, how it is split.
public struct DatasetSpec: Codable, Hashable, Sendable {
    public enum Kind: String, Codable, CaseIterable, Sendable {
        case fashionMNIST = "fashion-mnist"     // IDX files of the Debian package
        case imageFolder = "image-folder"       // a folder of PNG/JPEG files (CelebA-HQ, FFHQ, Kodak, …)
        case photos = "photos"                  // tiles of the photographs Debian ships, split by photo
        case cifar10 = "cifar10"                // cifar-10-batches-bin
        case imagenet64 = "imagenet64-npz"      // downsampled ImageNet npz files
    }
    public var kind: Kind
    public var path: String            // folder holding the files (default per kind)
    public var resolution: Int         // output side (images are square); the tile size for photos
    public var channels: Int           // 1 or 3
    public var evalImages: Int         // size of the eval split (photos: a cap on eval tiles)
    public var trainImages: Int?       // cap on the train split (nil: all)
    public var evalPhotos: Int         // photos: photos held out for eval
    public var seed: UInt64            // drives the split
    /// image-folder: how each file becomes resolution × resolution (nil: "area", and absent from the
    /// recorded spec, so runs from before the key existed read and key the same).
    public var preprocess: Preprocess?

    public static let defaultFashionMNISTPath = "/usr/share/datasets/fashion-mnist"
    /// The photos set's tiles live in the cache directory, which sits beside the results database
    /// (`<dir of --db>/cache`, so results/cache by default) whatever the working directory: a photos
    /// spec without a path gets it from `withCache` before loading.
    public func withCache(_ directory: String) -> DatasetSpec {
        var s = self
        if kind == .photos && s.path.isEmpty { s.path = directory }
        return s
    }

    /// The defaults of `eval_images` and `eval_photos`, written once (the experiment file's declared keys use them).
    public static let defaultEvalImages = 1000, defaultEvalPhotos = 4

    public init(kind: Kind, path: String? = nil, resolution: Int? = nil, channels: Int? = nil,
                evalImages: Int = DatasetSpec.defaultEvalImages, trainImages: Int? = nil, evalPhotos: Int = DatasetSpec.defaultEvalPhotos, seed: UInt64 = 0,
                preprocess: Preprocess? = nil) {
        self.kind = kind
        switch kind {
        case .fashionMNIST: self.path = path ?? Self.defaultFashionMNISTPath; self.resolution = resolution ?? 28; self.channels = channels ?? 1
        case .imageFolder: self.path = path ?? ""; self.resolution = resolution ?? 64; self.channels = channels ?? 3
        case .photos: self.path = path ?? ""; self.resolution = resolution ?? 64; self.channels = channels ?? 3
        case .cifar10: self.path = path ?? ""; self.resolution = resolution ?? 32; self.channels = channels ?? 3
        case .imagenet64: self.path = path ?? ""; self.resolution = resolution ?? 64; self.channels = channels ?? 3
        }
        self.evalImages = evalImages; self.trainImages = trainImages; self.evalPhotos = evalPhotos; self.seed = seed
        self.preprocess = preprocess
    }

    /// Fashion-MNIST's two IDX files in this spec's folder (the one place their names are written).
    public var fashionFiles: (train: String, test: String) {
        ((path as NSString).appendingPathComponent("train-images-idx3-ubyte.gz"), (path as NSString).appendingPathComponent("t10k-images-idx3-ubyte.gz"))
    }

    /// Checks that the data is there, without loading it. Errors name the path.
    public func checkAvailable() throws {
        let fm = FileManager.default
        switch kind {
        case .fashionMNIST:
            for f in [fashionFiles.train, fashionFiles.test] where !fm.fileExists(atPath: f) {
                let hint = path == Self.defaultFashionMNISTPath ? " (apt-get install dataset-fashion-mnist)" : ""
                throw DatasetError(f, "not found\(hint)")
            }
        case .imageFolder:
            let files = try listImageFiles(path, extensions: pngAndJPEGExtensions)
            if files.count < max(1, evalImages) {
                throw DatasetError(path, "has \(files.count) PNG/JPEG files, need at least eval_images = \(evalImages)")
            }
        case .photos:
            let n = PhotoSet.sourceFiles().count
            guard n > evalPhotos else {
                throw DatasetError(PhotoSet.mateNatureFolder, "found \(n) photos, need more than eval_photos = \(evalPhotos) (apt-get install \(PhotoSet.aptPackages.joined(separator: " ")))")
            }
        case .cifar10:
            for f in cifarFiles.train + [cifarFiles.test] where !fm.fileExists(atPath: f) { throw DatasetError(f, "not found (CIFAR-10 binary version)") }
        case .imagenet64:
            let f = try imagenetFiles()
            guard !f.train.isEmpty else { throw DatasetError(path, "no train_data_batch_*.npz files") }
        }
    }

    var cifarFiles: (train: [String], test: String) {
        ((1...5).map { (path as NSString).appendingPathComponent("data_batch_\($0).bin") }, (path as NSString).appendingPathComponent("test_batch.bin"))
    }

    /// Train batches (train_data_batch_*.npz under `path`) in batch-number order (1, 2, …, 10,
    /// not the string order 1, 10, 2, …), and the validation file (val_data.npz under `path` or
    /// a sibling Imagenet64_val_npz folder).
    func imagenetFiles() throws -> (train: [String], eval: String) {
        let fm = FileManager.default
        guard let all = fm.enumerator(atPath: path)?.allObjects as? [String] else { throw DatasetError(path, "not a folder") }
        let train = all.filter { ($0 as NSString).lastPathComponent.hasPrefix("train_data_batch_") && $0.hasSuffix(".npz") }
            .map { (path as NSString).appendingPathComponent($0) }
            .sorted(by: Self.imagenetBatchOrder)
        let candidates = all.filter { ($0 as NSString).lastPathComponent == "val_data.npz" }.map { (path as NSString).appendingPathComponent($0) }
            + [((path as NSString).deletingLastPathComponent as NSString).appendingPathComponent("Imagenet64_val_npz/val_data.npz")]
        guard let eval = candidates.first(where: { fm.fileExists(atPath: $0) }) else {
            throw DatasetError(path, "no val_data.npz here or in ../Imagenet64_val_npz")
        }
        return (train, eval)
    }

    /// The N of ".../train_data_batch_N.npz", or nil when N is not a number.
    static func imagenetBatchNumber(_ file: String) -> Int? {
        let name = ((file as NSString).lastPathComponent as NSString).deletingPathExtension
        let prefix = "train_data_batch_"
        guard name.hasPrefix(prefix) else { return nil }
        return Int(name.dropFirst(prefix.count))
    }

    /// Numbered batches by number (ties and unnumbered names by path, after the numbered ones).
    static func imagenetBatchOrder(_ a: String, _ b: String) -> Bool {
        switch (imagenetBatchNumber(a), imagenetBatchNumber(b)) {
        case let (x?, y?) where x != y: return x < y
        case (.some, .none): return true
        case (.none, .some): return false
        default: return a < b
        }
    }
}
