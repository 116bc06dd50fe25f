/// A PNG reader written from the specifications (PNG, RFC 1950 zlib, RFC 1951 deflate) for the
/// tests alone: no zlib, no libpng, so it can check what tokbench's libpng-based encoder wrote
/// without trusting the library that wrote it. Non-interlaced 8-bit gray and RGB only.
/// (Prototyped in Python against zlib's stored, fixed, dynamic, filtered and Huffman-only streams
/// and all five PNG row filters.)
enum IndependentPNGReader {
    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ d: String) { description = d }
    }

    struct Image {
        var width: Int, height: Int
        var bitDepth: Int, colourType: Int, interlace: Int
        /// FLEVEL of the zlib header: 0 fastest (levels 0–1), 1 fast (2–5), 2 default (6), 3 maximum (7–9).
        var zlibLevelFlags: Int
        var channels: Int
        var pixels: [UInt8]            // [H, W, C] interleaved
    }

    // MARK: checksums

    static let crcTable: [UInt32] = (0..<256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func crc32<S: Sequence>(_ bytes: S) -> UInt32 where S.Element == UInt8 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes { c = crcTable[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        return c ^ 0xFFFF_FFFF
    }

    static func adler32(_ bytes: [UInt8]) -> UInt32 {
        var a: UInt32 = 1, b: UInt32 = 0
        for x in bytes { a = (a + UInt32(x)) % 65521; b = (b + a) % 65521 }
        return b << 16 | a
    }

    static func be32(_ b: [UInt8], _ i: Int) -> Int {
        Int(b[i]) << 24 | Int(b[i + 1]) << 16 | Int(b[i + 2]) << 8 | Int(b[i + 3])
    }

    // MARK: inflate (canonical Huffman decoding as in zlib's puff.c)

    struct Huffman {
        var count: [Int]     // codes of each length 0…15
        var symbol: [Int]    // symbols ordered by code
    }

    static func huffman(_ lengths: [Int]) -> Huffman {
        var count = [Int](repeating: 0, count: 16)
        for l in lengths { count[l] += 1 }
        var offsets = [Int](repeating: 0, count: 16)
        for l in 1..<15 { offsets[l + 1] = offsets[l] + count[l] }
        var symbol = [Int](repeating: 0, count: lengths.count)
        for (sym, l) in lengths.enumerated() where l != 0 {
            symbol[offsets[l]] = sym
            offsets[l] += 1
        }
        return Huffman(count: count, symbol: symbol)
    }

    static let lengthBase = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258]
    static let lengthExtra = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
    static let distanceBase = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073,
                               4097, 6145, 8193, 12289, 16385, 24577]
    static let distanceExtra = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13]
    static let fixedLiterals = huffman([Int](repeating: 8, count: 144) + [Int](repeating: 9, count: 112)
                                       + [Int](repeating: 7, count: 24) + [Int](repeating: 8, count: 8))
    static let fixedDistances = huffman([Int](repeating: 5, count: 30))
    static let codeLengthOrder = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]

    struct Inflater {
        let data: [UInt8]
        var pos: Int
        var bitBuffer = 0
        var bitCount = 0
        var out: [UInt8] = []

        init(_ data: [UInt8], at pos: Int) {
            self.data = data
            self.pos = pos
        }

        /// The next n bits, least significant first.
        mutating func bits(_ n: Int) throws -> Int {
            while bitCount < n {
                guard pos < data.count else { throw Failure("deflate data ends early") }
                bitBuffer |= Int(data[pos]) << bitCount
                pos += 1
                bitCount += 8
            }
            let v = bitBuffer & ((1 << n) - 1)
            bitBuffer >>= n
            bitCount -= n
            return v
        }

        mutating func decode(_ h: Huffman) throws -> Int {
            var code = 0, first = 0, index = 0
            for l in 1...15 {
                code |= try bits(1)
                let c = h.count[l]
                if code - c < first { return h.symbol[index + (code - first)] }
                index += c
                first += c
                first <<= 1
                code <<= 1
            }
            throw Failure("bad Huffman code")
        }

        mutating func codes(_ literals: Huffman, _ distances: Huffman) throws {
            while true {
                let sym = try decode(literals)
                if sym < 256 {
                    out.append(UInt8(sym))
                } else if sym == 256 {
                    return
                } else {
                    let l = sym - 257
                    guard l < 29 else { throw Failure("bad length symbol \(sym)") }
                    let lengthExtraBits = try bits(IndependentPNGReader.lengthExtra[l])
                    let length = IndependentPNGReader.lengthBase[l] + lengthExtraBits
                    let d = try decode(distances)
                    guard d < 30 else { throw Failure("bad distance symbol \(d)") }
                    let distanceExtraBits = try bits(IndependentPNGReader.distanceExtra[d])
                    let distance = IndependentPNGReader.distanceBase[d] + distanceExtraBits
                    guard distance <= out.count else { throw Failure("distance \(distance) before the start") }
                    for _ in 0..<length { out.append(out[out.count - distance]) }
                }
            }
        }

        mutating func run() throws -> [UInt8] {
            while true {
                let last = try bits(1)
                let type = try bits(2)
                switch type {
                case 0:
                    bitBuffer = 0      // stored: skip to the byte boundary
                    bitCount = 0
                    guard pos + 4 <= data.count else { throw Failure("stored block header cut") }
                    let n = Int(data[pos]) | Int(data[pos + 1]) << 8
                    let nn = Int(data[pos + 2]) | Int(data[pos + 3]) << 8
                    guard n == (~nn & 0xFFFF) else { throw Failure("stored block length check") }
                    pos += 4
                    guard pos + n <= data.count else { throw Failure("stored block cut") }
                    out += data[pos..<(pos + n)]
                    pos += n
                case 1:
                    try codes(IndependentPNGReader.fixedLiterals, IndependentPNGReader.fixedDistances)
                case 2:
                    let literalCount = try bits(5) + 257
                    let distanceCount = try bits(5) + 1
                    let codeLengthCount = try bits(4) + 4
                    var codeLengths = [Int](repeating: 0, count: 19)
                    for i in 0..<codeLengthCount { codeLengths[IndependentPNGReader.codeLengthOrder[i]] = try bits(3) }
                    let lengthCode = IndependentPNGReader.huffman(codeLengths)
                    var lengths: [Int] = []
                    while lengths.count < literalCount + distanceCount {
                        let sym = try decode(lengthCode)
                        if sym < 16 {
                            lengths.append(sym)
                            continue
                        }
                        var repeats = 0, value = 0
                        if sym == 16 {
                            guard let previous = lengths.last else { throw Failure("length repeat with no previous length") }
                            repeats = try 3 + bits(2)
                            value = previous
                        } else if sym == 17 {
                            repeats = try 3 + bits(3)
                        } else {
                            repeats = try 11 + bits(7)
                        }
                        guard lengths.count + repeats <= literalCount + distanceCount else { throw Failure("too many code lengths") }
                        lengths += [Int](repeating: value, count: repeats)
                    }
                    try codes(IndependentPNGReader.huffman(Array(lengths[..<literalCount])),
                              IndependentPNGReader.huffman(Array(lengths[literalCount...])))
                default:
                    throw Failure("bad deflate block type 3")
                }
                if last == 1 { return out }
            }
        }
    }

    // MARK: PNG

    static func paeth(_ a: Int, _ b: Int, _ c: Int) -> Int {
        let p = a + b - c
        let pa = abs(p - a), pb = abs(p - b), pc = abs(p - c)
        if pa <= pb && pa <= pc { return a }
        return pb <= pc ? b : c
    }

    static func read(_ png: [UInt8]) throws -> Image {
        guard png.count >= 8, Array(png[0..<8]) == [137, 80, 78, 71, 13, 10, 26, 10] else { throw Failure("no PNG signature") }
        var pos = 8
        var chunks: [(type: String, data: [UInt8])] = []
        while pos + 12 <= png.count {
            let n = be32(png, pos)
            guard pos + 12 + n <= png.count else { throw Failure("chunk past the end") }
            let type = String(decoding: png[(pos + 4)..<(pos + 8)], as: UTF8.self)
            guard UInt32(be32(png, pos + 8 + n)) == crc32(png[(pos + 4)..<(pos + 8 + n)]) else { throw Failure("bad CRC in \(type)") }
            chunks.append((type: type, data: Array(png[(pos + 8)..<(pos + 8 + n)])))
            pos += 12 + n
        }
        guard pos == png.count else { throw Failure("\(png.count - pos) bytes after the last chunk") }
        guard chunks.first?.type == "IHDR", chunks.last?.type == "IEND", chunks[0].data.count == 13 else {
            throw Failure("chunks \(chunks.map { $0.type }): IHDR must come first, IEND last")
        }
        let ih = chunks[0].data
        let width = be32(ih, 0), height = be32(ih, 4)
        let bitDepth = Int(ih[8]), colourType = Int(ih[9]), interlace = Int(ih[12])
        guard bitDepth == 8, colourType == 0 || colourType == 2, interlace == 0, ih[10] == 0, ih[11] == 0 else {
            throw Failure("depth \(bitDepth), colour type \(colourType), interlace \(interlace): this reader needs 8-bit gray/RGB, not interlaced")
        }
        guard width > 0, height > 0, width <= 1 << 16, height <= 1 << 16 else { throw Failure("size \(width)×\(height)") }
        let z = chunks.filter { $0.type == "IDAT" }.flatMap { $0.data }
        guard z.count >= 6 else { throw Failure("IDAT too short") }
        let cmf = Int(z[0]), flg = Int(z[1])
        guard cmf & 15 == 8, cmf >> 4 <= 7, (cmf << 8 | flg) % 31 == 0, flg & 32 == 0 else { throw Failure("bad zlib header") }
        var inflater = Inflater(z, at: 2)
        let raw = try inflater.run()
        let end = inflater.pos
        guard end + 4 == z.count else { throw Failure("zlib stream: \(z.count - end) bytes where the 4-byte Adler-32 belongs") }
        guard UInt32(be32(z, end)) == adler32(raw) else { throw Failure("Adler-32 mismatch") }
        let channels = colourType == 0 ? 1 : 3
        let stride = width * channels
        guard raw.count == height * (stride + 1) else { throw Failure("inflated \(raw.count) bytes, expected \(height * (stride + 1))") }
        var px = [UInt8](repeating: 0, count: height * stride)
        for y in 0..<height {
            let filter = raw[y * (stride + 1)]
            for i in 0..<stride {
                let x = Int(raw[y * (stride + 1) + 1 + i])
                let a = i >= channels ? Int(px[y * stride + i - channels]) : 0
                let b = y > 0 ? Int(px[(y - 1) * stride + i]) : 0
                let c = y > 0 && i >= channels ? Int(px[(y - 1) * stride + i - channels]) : 0
                let prediction: Int
                switch filter {
                case 0: prediction = 0
                case 1: prediction = a
                case 2: prediction = b
                case 3: prediction = (a + b) / 2
                case 4: prediction = paeth(a, b, c)
                default: throw Failure("row \(y): bad filter type \(filter)")
                }
                px[y * stride + i] = UInt8((x + prediction) & 255)
            }
        }
        return Image(width: width, height: height, bitDepth: bitDepth, colourType: colourType, interlace: interlace,
                     zlibLevelFlags: flg >> 6, channels: channels, pixels: px)
    }
}
