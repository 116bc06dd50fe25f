import Foundation

/// The whole file's bytes; a missing file, a directory or an unreadable file is a DatasetError naming it.
public func readFileBytes(_ path: String) throws -> [UInt8] {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { throw DatasetError(path, whyMissing(path)) }
    if isDirectory.boolValue { throw DatasetError(path, "is a directory, expected a file") }
    guard let data = FileManager.default.contents(atPath: path) else { throw DatasetError(path, "cannot read file" + errnoSuffix(path)) }
    return [UInt8](data)
}

/// The file's size in bytes (nil: no such file, or not readable).
public func fileSize(_ path: String) -> Int? {
    (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int
}

/// Why a path cannot be opened, in a few words: a symlink loop, a name that is not UTF-8 (its bytes
/// were replaced on the way in, so no file of that name exists), no permission, or no such file.
public func whyMissing(_ path: String) -> String {
    var st = stat()
    if stat(path, &st) != 0 {
        switch errno {
        case ELOOP: return "too many levels of symbolic links (a symlink loop?)"
        case EACCES: return "permission denied"
        case ENAMETOOLONG: return "file name too long"
        case ENOTDIR: return "a part of the path is not a folder"
        default: break
        }
    }
    if path.contains("\u{FFFD}") { return "no such file (its name is not valid UTF-8, which tokbench cannot pass on: rename it)" }
    return "no such file"
}

func errnoSuffix(_ path: String) -> String {
    let fd = open(path, O_RDONLY)
    if fd >= 0 { close(fd); return "" }
    return " (" + String(cString: strerror(errno)) + ")"
}
