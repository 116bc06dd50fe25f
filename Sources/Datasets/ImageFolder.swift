import Foundation

/// A folder of PNG/JPEG files (CelebA-HQ, FFHQ, Kodak, …), for the folder dataset kinds.

/// Files under `folder` (recursively) whose extension is in `extensions` (lower case, no dot),
/// in a stable (sorted) order.
public func listImageFiles(_ folder: String, extensions: Set<String>) throws -> [String] {
    try listImageFileNames(folder, extensions: extensions).map { (folder as NSString).appendingPathComponent($0) }
}

/// The same files' paths relative to `folder`, in the same order: the names an image is matched by
/// (taken from the listing, so a file that is a symbolic link keeps its own name).
public func listImageFileNames(_ folder: String, extensions: Set<String>) throws -> [String] {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
        throw DatasetError(folder, "not a folder")
    }
    guard let e = FileManager.default.enumerator(atPath: folder) else { throw DatasetError(folder, "cannot list folder") }
    var out: [String] = []
    while let rel = e.nextObject() as? String {
        if extensions.contains((rel as NSString).pathExtension.lowercased()) { out.append(rel) }
    }
    return out.sorted()
}

public let pngAndJPEGExtensions: Set<String> = ["png", "jpg", "jpeg"]

/// Reads `files` (PNG or JPEG, by content), center-crops each to a square, area-resizes it to
/// side × side and converts it to `channels` (1 or 3). images: [N, channels, side, side]
public func readImageFiles(_ files: [String], side: Int, channels: Int, preprocess: Preprocess = .area) throws -> ImageBatch {
    var out = ImageBatch(count: files.count, channels: channels, height: side, width: side)
    for (i, f) in files.enumerated() {
        let img = conform(try readImage(path: f), side: side, channels: channels, preprocess: preprocess)   // [1, channels, side, side]
        out.pixels.replaceSubrange((i * out.bytesPerImage)..<((i + 1) * out.bytesPerImage), with: img.pixels)
    }
    return out
}
