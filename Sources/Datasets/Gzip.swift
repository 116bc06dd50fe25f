import CZlib

/// Inflates gzip (or raw zlib) data; plain data without a gzip header is returned as is.
func gunzip(_ input: [UInt8], path: String, limit: Int = 1 << 31) throws -> [UInt8] {
    guard input.count >= 2, input[0] == 0x1f, input[1] == 0x8b else { return input }
    var stream = z_stream()
    var status = inflateInit2_(&stream, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
    guard status == Z_OK else { throw DatasetError(path, "zlib init failed") }
    defer { inflateEnd(&stream) }
    var output = [UInt8]()
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    try input.withUnsafeBufferPointer { inBuf in
        stream.next_in = UnsafeMutablePointer(mutating: inBuf.baseAddress)
        stream.avail_in = UInt32(inBuf.count)
        repeat {
            try chunk.withUnsafeMutableBufferPointer { outBuf in
                stream.next_out = outBuf.baseAddress
                stream.avail_out = UInt32(outBuf.count)
                status = inflate(&stream, Z_NO_FLUSH)
                guard status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR else {
                    throw DatasetError(path, "corrupt gzip data")
                }
                output.append(contentsOf: outBuf[0..<(outBuf.count - Int(stream.avail_out))])
            }
            if output.count > limit { throw DatasetError(path, "gzip data inflates past \(limit) bytes") }
            if status == Z_BUF_ERROR && stream.avail_in == 0 { throw DatasetError(path, "truncated gzip data") }
        } while status != Z_STREAM_END
    }
    return output
}
