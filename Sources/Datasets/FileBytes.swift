import Foundation

/// Reads a whole file, with an error that names it.
public func readFileBytes(_ path: String) throws -> [UInt8] {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
        throw DatasetError(path, "no such file")
    }
    if isDirectory.boolValue { throw DatasetError(path, "is a directory, expected a file") }
    guard let data = FileManager.default.contents(atPath: path) else { throw DatasetError(path, "cannot read file") }
    return [UInt8](data)
}
