import Foundation

/// What an experiment asks for: which data, at what size, how it is split.
public struct DatasetSpec: Codable, Hashable, Sendable {
    public enum Kind: String, Codable, CaseIterable, Sendable {
        case fashionMNIST = "fashion-mnist"
        case pngFolder = "png-folder"
    }
    public var kind: Kind
    public var path: String            // folder holding the files (default per kind)
    public var resolution: Int         // output side (images are square)
    public var channels: Int           // 1 or 3 (folder datasets convert to this)
    public var evalImages: Int         // size of the eval split
    public var trainImages: Int?       // cap on the train split (nil: all)
    public var seed: UInt64            // drives the split

    public static let defaultFashionMNISTPath = "/usr/share/datasets/fashion-mnist"

    public init(kind: Kind, path: String? = nil, resolution: Int? = nil, channels: Int? = nil,
                evalImages: Int = 1000, trainImages: Int? = nil, seed: UInt64 = 0) {
        self.kind = kind
        switch kind {
        case .fashionMNIST:
            self.path = path ?? Self.defaultFashionMNISTPath
            self.resolution = resolution ?? 28
            self.channels = channels ?? 1
        case .pngFolder:
            self.path = path ?? ""
            self.resolution = resolution ?? 64
            self.channels = channels ?? 3
        }
        self.evalImages = evalImages; self.trainImages = trainImages; self.seed = seed
    }

    /// The files this spec reads; each must exist before any run starts.
    public func requiredFiles() -> [String] {
        switch kind {
        case .fashionMNIST:
            return ["train-images-idx3-ubyte.gz", "t10k-images-idx3-ubyte.gz"].map { (path as NSString).appendingPathComponent($0) }
        case .pngFolder:
            return [path]
        }
    }

    /// Checks that the data is there, without loading it. Errors name the path.
    public func checkAvailable() throws {
        for f in requiredFiles() where !FileManager.default.fileExists(atPath: f) {
            let hint = kind == .fashionMNIST && path == Self.defaultFashionMNISTPath ? " (apt-get install dataset-fashion-mnist)" : ""
            throw DatasetError(f, "not found\(hint)")
        }
        if kind == .pngFolder {
            let files = try listImageFiles(path)
            if files.count < evalImages + 1 {
                throw DatasetError(path, "has \(files.count) PNG files, need at least eval_images + 1 = \(evalImages + 1)")
            }
        }
    }
}

/// PNG files under a folder, recursively, in a stable (sorted) order.
public func listImageFiles(_ folder: String) throws -> [String] {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
        throw DatasetError(folder, "not a folder")
    }
    guard let e = FileManager.default.enumerator(atPath: folder) else { throw DatasetError(folder, "cannot list folder") }
    var out: [String] = []
    while let rel = e.nextObject() as? String {
        if rel.lowercased().hasSuffix(".png") { out.append((folder as NSString).appendingPathComponent(rel)) }
    }
    return out.sorted()
}
